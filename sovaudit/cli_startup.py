"""Typer's help formatter (`typer.rich_utils`) imports Rich's Markdown and Traceback renderers at its top, about
55 ms of a `--help` that should answer in under 0.2 s. sovaudit's help is Rich markup, never Markdown, and its
errors are one line, so both renderers are loaded only if Typer ever builds one."""

import importlib
import sys
import types
from typing import Any

# module -> the class Typer imports from it, and the classmethods it calls on that class
_DEFERRED = {"rich.markdown": ("Markdown", ()), "rich.traceback": ("Traceback", ("from_exception",))}


def _real(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def _stand_in(module: str, name: str, classmethods: tuple[str, ...]) -> type:
    """A class that builds the real one when called: Typer's annotations (`Markdown | Text`) need a class."""

    def construct(cls: type, *args: Any, **kwargs: Any) -> Any:
        return _real(module, name)(*args, **kwargs)

    namespace: dict[str, Any] = {"__new__": construct, "__module__": module}
    for method in classmethods:
        namespace[method] = classmethod(
            lambda cls, *args, _method=method, **kwargs: getattr(_real(module, name), _method)(*args, **kwargs))
    return type(name, (), namespace)


def load_typer_help() -> None:
    """Import `typer.rich_utils` with stand-ins for the deferred renderers. The stand-ins live in `sys.modules`
    only while it imports, so anything importing `rich.markdown` later gets the real module."""
    if "typer.rich_utils" in sys.modules:
        return
    planted = [module for module in _DEFERRED if module not in sys.modules]
    for module in planted:
        name, classmethods = _DEFERRED[module]
        stub = types.ModuleType(module)
        setattr(stub, name, _stand_in(module, name, classmethods))
        sys.modules[module] = stub
    try:
        importlib.import_module("typer.rich_utils")
    except ImportError:
        # A Typer that imports more from these modules than the stand-ins offer: load it the ordinary way.
        for module in planted:
            sys.modules.pop(module, None)
        sys.modules.pop("typer.rich_utils", None)
        importlib.import_module("typer.rich_utils")
        return
    finally:
        for module in planted:
            if isinstance(sys.modules.get(module), types.ModuleType) and not hasattr(sys.modules[module], "__file__"):
                sys.modules.pop(module, None)
