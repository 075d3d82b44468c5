"""One census row: what the census shows for one active infusion, with its display helpers (text
always accompanies colour).  Built by :func:`dashboards.census.census_rows`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carttrack import wording


@dataclass
class OpenAlert:
    id: int
    syndrome: str
    grade: int | None
    status: str
    opened_at: datetime
    acknowledged_at: datetime | None
    title: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


@dataclass
class CheckState:
    check_type: str
    label: str
    overdue_by: timedelta | None
    next_due: datetime | None
    missed_reason: str = ""


@dataclass
class CensusRow:
    infusion_id: int
    patient_id: int
    patient_name: str
    mrn: str
    team_id: int
    team_name: str
    product_id: int
    product_name: str
    indication: str
    indication_label: str
    category: str
    infused_at: datetime
    day: int
    time_zone: str = "UTC"  # the care team's: times in the export are written in it
    crs_grade: int | None = None
    crs_max: int | None = None
    icans_grade: int | None = None
    icans_max: int | None = None
    icans_incomplete: bool = False
    icaht_early: int | None = None
    icaht_early_provisional: bool = False
    icaht_late: int | None = None
    evaluated_at: datetime | None = None
    graded: bool = False
    last_vitals_at: datetime | None = None
    vitals_age: timedelta | None = None
    vitals_stale: bool = True
    alerts: list[OpenAlert] = field(default_factory=list)
    checks: list[CheckState] = field(default_factory=list)
    now: datetime | None = None

    # --- display helpers (text always accompanies colour) ----------------------------------------
    @staticmethod
    def _grade_class(value: int | None, graded: bool) -> str:
        return f"grade-{value}" if graded and value is not None else "grade-na"

    @property
    def crs_class(self) -> str:
        return self._grade_class(self.crs_grade, self.graded)

    @property
    def icans_class(self) -> str:
        return self._grade_class(self.icans_grade, self.graded)

    @property
    def crs_text(self) -> str:
        return grade_text(self.crs_grade, graded=self.graded)

    @property
    def icans_text(self) -> str:
        text = grade_text(self.icans_grade, graded=self.graded)
        return text + " (incomplete)" if self.icans_incomplete else text

    @property
    def crs_max_text(self) -> str:
        return "–" if self.crs_max is None else f"max {self.crs_max}"

    @property
    def icans_max_text(self) -> str:
        return "–" if self.icans_max is None else f"max {self.icans_max}"

    @property
    def vitals_age_text(self) -> str:
        return format_age(self.vitals_age) if self.last_vitals_at else "no vitals yet"

    @property
    def alert_items(self) -> list[tuple[OpenAlert, str]]:
        return [(a, format_age(self.now - a.opened_at) if self.now else "") for a in self.alerts]

    @property
    def overdue_items(self) -> list[tuple[CheckState, str]]:
        return [(c, format_age(c.overdue_by)) for c in self.overdue]

    @property
    def overdue(self) -> list[CheckState]:
        return [c for c in self.checks if c.overdue_by is not None and c.overdue_by > timedelta(0)]

    @property
    def oldest_alert_opened_at(self) -> datetime | None:
        return min((a.opened_at for a in self.alerts), default=None)

    @property
    def top_grade(self) -> int:
        return max(self.crs_grade or 0, self.icans_grade or 0)

    @property
    def icaht_text(self) -> str:
        parts = []
        if self.icaht_early is not None:
            parts.append(
                f"early grade {self.icaht_early}" + (" (provisional)" if self.icaht_early_provisional else "")
            )
        if self.icaht_late is not None:
            parts.append(f"late grade {self.icaht_late}")
        return "; ".join(parts) if parts else "none"


def format_age(delta: timedelta | None) -> str:
    if delta is None:
        return "never"
    if delta.total_seconds() < 60:
        return "0 min"
    return wording.span(delta)


def grade_text(value: int | None, *, graded: bool = True) -> str:
    if not graded:
        return "not graded yet"
    if value is None:
        return "not assessable"
    return f"grade {value}"
