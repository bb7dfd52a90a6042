"""What a verification found: one `Break` per thing that failed to verify, grouped by check."""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Break:
    """One thing that failed to verify, said so that an auditor can go and look at it."""

    check: str
    where: str  # which entry, file or object: "ledger.jsonl line 3 (seq 3)", "raw/ab/ab12…", "s3://b/k"
    problem: str
    expected: str | None = None
    found: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckOutcome:
    check: str
    title: str
    checked: int = 0
    unit: str = "items"
    breaks: list[Break] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def broken(self, where: str, problem: str, expected: Any = None, found: Any = None) -> None:
        self.breaks.append(Break(self.check, where, problem,
                                 None if expected is None else str(expected), None if found is None else str(found)))

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "title": self.title, "ok": self.ok, "checked": self.checked, "unit": self.unit,
                "breaks": [b.as_dict() for b in self.breaks], "notes": list(self.notes)}
