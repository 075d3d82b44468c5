"""Per-process memory of each infusion's parsed course, so that grading after one new observation
parses that one row instead of the whole course.

Why it is safe:

* Observations are append-only: a correction is a new row that ``supersedes`` the old one and a
  voided row is marked by a new ``entered-in-error`` row. A course that has seen every row of the
  infusion up to id N is brought up to date by the rows with id > N alone.
* Every row of an infusion is inserted while that infusion's row is locked
  (``monitoring.services``), so the rows of one infusion become visible in id order.  In case some
  future path inserts without the lock, the query that reads the new rows also counts all rows of
  the infusion; a mismatch throws the course away and the whole course is read again.
* A course is *taken out* of the cache while a transaction grades with it and put back only after
  that transaction commits: a rollback can never leave a course holding rows that do not exist.
* A course is tied to what it was built for (``basis``: day 0, patient, decision settings,
  follow-up); if any of them changed, the evaluator is rebuilt.

Each gunicorn worker process has its own cache (bounded, least recently used out first); a miss
costs one full read, which is what every grading did before this cache existed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import carttrack

#: Courses kept per process (an active ward is tens of patients; each course is well under 1 MB).
DEFAULT_SIZE = 256


@dataclass(eq=False)
class Course:
    """One infusion's current observations, parsed, and the evaluator fed with them."""

    basis: tuple[Any, ...]
    #: highest observation id (any status) this course has seen, and how many rows that is
    last_id: int
    rows: int
    #: current observations (not superseded, not entered-in-error) by row id
    current: dict[int, carttrack.Observation]
    evaluator: carttrack.Evaluator


class CourseCache:
    """A small thread-safe LRU of :class:`Course` by infusion id."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._courses: OrderedDict[int, Course] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, infusion_id: int) -> Course | None:
        """Remove and return the infusion's course (the caller owns it until it puts it back)."""
        with self._lock:
            return self._courses.pop(infusion_id, None)

    def put(self, infusion_id: int, course: Course) -> None:
        """Keep ``course`` unless a course that has seen more rows is already there."""
        with self._lock:
            held = self._courses.get(infusion_id)
            if held is not None and held.last_id > course.last_id:
                return
            self._courses[infusion_id] = course
            self._courses.move_to_end(infusion_id)
            while len(self._courses) > self.size:
                self._courses.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._courses.clear()

    def __len__(self) -> int:
        return len(self._courses)


COURSES = CourseCache()
