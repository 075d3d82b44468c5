"""Case-file command line (CASE-5, CASE-6): python -m carttrack.cases [--check] FILE [FILE...]

Prints one JSON array, one object per case, in file order. A case with an invalid observation is
reported on stderr (case, observation index, field) and not graded; the exit status is then 2.
--check compares each output with the case's `expected` block, prints one line per mismatch on
stdout (instead of the JSON array) and exits 1 on any mismatch. Each object carries `followup`
(CASE-8, carttrack/followup), null for a course without follow-up data, with the reminders (IgG
checks, CMV PCR, vaccinations) as of the case's end (CASE-10: the format has no field for them, so
they are output only); a case's `settings` object sets the follow-up site settings for that case
(CASE-9)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .engine import evaluate
from .followup.evaluate import evaluate_case_followup
from .followup.parsing import parse_followup_settings
from .observations import ObservationError, parse_case

SCHEMA = "carttrack-case/1"
FLOAT_TOLERANCE = 1e-6


def load_cases(path: str) -> list[Any]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if isinstance(data, Mapping) and "cases" in data:
        cases = data["cases"]
        if not isinstance(cases, list):
            raise ValueError(f"{path}: 'cases' must be a list")
        return cases
    return [data]


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
    return bool(expected == actual)


def check_case(output: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """Mismatch lines for one case."""
    cid = output["id"]
    problems: list[str] = []
    for key, exp in expected.items():
        if key == "suggestions_must_include":
            for code in exp:
                if code not in output["suggestions"]:
                    problems.append(f"{cid}: suggestions missing {code!r} (got {output['suggestions']})")
        elif key == "suggestions_must_not_include":
            for code in exp:
                if code in output["suggestions"]:
                    problems.append(f"{cid}: suggestions must not include {code!r}")
        elif key in ("computed", "icaht_grade", "followup") and isinstance(exp, Mapping):
            got = output.get(key) or {}
            for sub, val in exp.items():
                if sub not in got or not _equal(val, got[sub]):
                    problems.append(f"{cid}: {key}.{sub} expected {val!r}, got {got.get(sub)!r}")
        elif key in output:
            if not _equal(exp, output[key]):
                problems.append(f"{cid}: {key} expected {exp!r}, got {output[key]!r}")
        else:
            problems.append(f"{cid}: expected key {key!r} is not produced by the engine")
    return problems


def run(paths: Sequence[str], check: bool = False) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Returns (outputs, errors, mismatches)."""
    outputs: list[dict[str, Any]] = []
    errors: list[str] = []
    mismatches: list[str] = []
    for path in paths:
        try:
            raw_cases = load_cases(path)
        except (OSError, ValueError) as exc:
            errors.append(f"{path}: {exc}")
            continue
        for pos, raw in enumerate(raw_cases):
            try:
                case = parse_case(raw)
                followup_settings = parse_followup_settings(raw.get("settings"), case_id=case.id)
            except ObservationError as exc:
                if exc.case_id is None:
                    exc = exc.located(case_id=f"#{pos}")
                errors.append(f"{path}: {exc}")
                continue
            out = evaluate(case).case_output(case.id)
            followup = evaluate_case_followup(case, followup_settings)
            out["followup"] = followup.case_output() if followup is not None else None
            outputs.append(out)
            if check:
                exp = raw.get("expected") if isinstance(raw, Mapping) else None
                if isinstance(exp, Mapping):
                    mismatches.extend(check_case(out, exp))
    return outputs, errors, mismatches


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m carttrack.cases", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--check", action="store_true", help="compare with each case's expected block")
    args = parser.parse_args(argv)
    outputs, errors, mismatches = run(args.files, check=args.check)
    for err in errors:
        print(f"error: {err}", file=sys.stderr)
    if args.check:
        for line in mismatches:
            print(line)
        print(
            f"checked {len(outputs)} case(s): {len(mismatches)} mismatch(es), {len(errors)} error(s)",
            file=sys.stderr,
        )
    else:
        json.dump(outputs, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    if errors:
        return 2
    if mismatches:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
