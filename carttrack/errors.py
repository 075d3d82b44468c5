"""ObservationError: one refused input value, naming the field, the value and what is allowed.

One record can hold several bad fields; every entry path reports them all at once through
``ObservationError.errors`` (the first error is the exception itself, so code that only shows one
message still shows the first; INPUT-13)."""

from __future__ import annotations

from collections.abc import Sequence


class ObservationError(ValueError):
    """Invalid input. Attributes: field, value, allowed (human text), problem, case_id, index, errors."""

    def __init__(
        self,
        field: str,
        value: object,
        allowed: str,
        *,
        problem: str | None = None,
        case_id: str | None = None,
        index: int | None = None,
    ) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.problem = problem
        self.case_id = case_id
        self.index = index
        self._others: tuple[ObservationError, ...] = ()
        super().__init__(self._message())

    @property
    def errors(self) -> tuple[ObservationError, ...]:
        """Every error of the record, this one first."""
        return (self, *self._others)

    def _message(self) -> str:
        where = []
        if self.case_id is not None:
            where.append(f"case {self.case_id}")
        if self.index is not None:
            where.append(f"observation {self.index}")
        where.append(f"field {self.field}")
        problem = self.problem or f"{show(self.value)} is outside {self.allowed}"
        return ", ".join(where) + ": " + problem

    def _located_one(self, case_id: str | None, index: int | None) -> ObservationError:
        return ObservationError(
            self.field,
            self.value,
            self.allowed,
            problem=self.problem,
            case_id=case_id if case_id is not None else self.case_id,
            index=index if index is not None else self.index,
        )

    def located(self, *, case_id: str | None = None, index: int | None = None) -> ObservationError:
        """The same errors, placed in a case and/or at an observation index."""
        return combined([e._located_one(case_id, index) for e in self.errors])

    def __str__(self) -> str:
        return self._message()


def combined(errors: Sequence[ObservationError]) -> ObservationError:
    """One exception carrying all of ``errors`` (at least one), the first as the exception itself."""
    flat: dict[int, ObservationError] = {}
    for err in errors:
        for one in err.errors:
            flat.setdefault(id(one), one)
    first, *others = flat.values()
    first._others = tuple(others)
    return first


def show(value: object) -> str:
    """A value as a person reads it in an error message."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return repr(value)
    return str(value)
