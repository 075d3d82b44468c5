"""FHIR R4 ``OperationOutcome`` resources: what went wrong, naming the entry, the code or unit and
what is accepted (E-2)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .reading import Problem


def operation_outcome(problems: Iterable[Problem], *, severity: str = "error") -> dict[str, Any]:
    issues = []
    for p in problems:
        issue: dict[str, Any] = {"severity": severity, "code": p.code, "diagnostics": p.text}
        if p.expression:
            issue["expression"] = [p.expression]
        issues.append(issue)
    return {"resourceType": "OperationOutcome", "issue": issues}


def single(text: str, *, code: str = "invalid", severity: str = "error") -> dict[str, Any]:
    return operation_outcome([Problem(text, code=code)], severity=severity)


def informational(text: str) -> dict[str, Any]:
    return single(text, code="informational", severity="information")
