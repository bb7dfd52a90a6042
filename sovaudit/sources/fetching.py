"""Fetch a listing's items on a thread pool, in listing order, with a bounded number in flight."""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def fetch_in_order(fetch: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """fetch(item) for each item, yielded in order; at most 2 × workers results are held at once,
    which keeps memory flat however large the listing."""
    window = workers * 2
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures: list[Future] = []
        for item in items:
            futures.append(pool.submit(fetch, item))
            if len(futures) >= window:
                yield futures.pop(0).result()
        while futures:
            yield futures.pop(0).result()
