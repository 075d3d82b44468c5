"""The rule book (docs/clinical-rules.md) is the target of every clinical citation in the code, so it must
hold together: ids unique and well formed, every rule traceable to a published source or marked as this
project's decision, every reference cited, every cross-reference and link resolvable. The last test, off
until the citation rewrite has run, checks the code's side: every cited id exists and no citation points
at a document outside the repository."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from carttrack.followup.settings import FollowupSettings
from carttrack.settings import DecisionSettings

REPO = Path(__file__).resolve().parents[2]
RULE_BOOK = REPO / "docs" / "clinical-rules.md"

STATUSES = ("verified", "secondary", "unverified", "decision")
DECISION_LETTERS = "ABCDEG"
DECISION_ID = re.compile(r"^[ABCDEG]-\d{1,2}$")
RULE_ID = re.compile(r"^([A-Z]{2,9})-\d{1,2}$")
ANY_ID = re.compile(r"^[A-Z]+-\d+$")
# An id mentioned in running text; whether its prefix is an area or a decision letter is checked after.
ID_MENTION = re.compile(r"(?<![\w-])([A-Z]{1,9})-(\d{1,2})(?!\w|\.\d)")
DECISION_MENTION = re.compile(r"\b[ABCDEG]-\d{1,2}\b")
REFERENCE_ENTRY = re.compile(r"^- \*\*\[([^\]]+)\]\*\*\s+\S")
CODE_SPAN = re.compile(r"`[^`]*`")
BRACKETED = re.compile(r"\[([^\[\]]+)\](?!\()")
LINK_TARGET = re.compile(r"\]\(#([^)]+)\)")
PROJECT_DECISION = "project decision"


@dataclass(frozen=True)
class Row:
    """One rule or decision: a table row whose first cell is an id."""

    line: int
    cells: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.cells[0]


@dataclass(frozen=True)
class RuleBook:
    lines: tuple[str, ...]
    areas: frozenset[str]
    rules: tuple[Row, ...]
    decisions: tuple[Row, ...]
    references: dict[str, int]  # key -> line number of its entry
    references_start: int  # index of the "## References" heading

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(r.id for r in (*self.rules, *self.decisions))

    def is_id_prefix(self, prefix: str) -> bool:
        return prefix in self.areas or (len(prefix) == 1 and prefix in DECISION_LETTERS)


def _cells(line: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in line.strip().strip("|").split("|"))


def _without_code(text: str) -> str:
    return CODE_SPAN.sub("", text)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = _without_code(heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def parse(text: str) -> RuleBook:
    lines = tuple(text.splitlines())
    refs_start = next(i for i, line in enumerate(lines) if line.strip() == "## References")
    areas: set[str] = set()
    rules: list[Row] = []
    decisions: list[Row] = []
    in_areas = False
    for number, line in enumerate(lines[:refs_start], start=1):
        if line.startswith("#"):
            in_areas = line.startswith("### Areas")
        if not line.startswith("|"):
            continue
        cells = _cells(line)
        if in_areas and re.fullmatch(r"`[A-Z]{2,9}`", cells[0]):
            areas.add(cells[0].strip("`"))
        elif DECISION_ID.match(cells[0]):
            decisions.append(Row(number, cells))
        elif ANY_ID.match(cells[0]):
            rules.append(Row(number, cells))
    references: dict[str, int] = {}
    for number, line in enumerate(lines[refs_start:], start=refs_start + 1):
        m = REFERENCE_ENTRY.match(line)
        if m:
            assert m.group(1) not in references, f"line {number}: [{m.group(1)}] is defined twice"
            references[m.group(1)] = number
    return RuleBook(lines, frozenset(areas), tuple(rules), tuple(decisions), references, refs_start)


@cache
def rule_book() -> RuleBook:
    return parse(RULE_BOOK.read_text(encoding="utf-8"))


def _report(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_the_rule_book_covers_every_area_and_all_decisions() -> None:
    book = rule_book()
    assert book.areas >= {"CRS", "ICANS", "ICE", "CAPD", "ICAHT", "HTX", "EASIX", "IECHS", "LICATS", "INPUT"}
    assert book.areas >= {"SLEDAI", "DORIS", "LLDAS", "RENAL", "SERO", "BCELL", "TIS", "SSC", "RELAPSE"}
    used_areas = {RULE_ID.match(r.id).group(1) for r in book.rules if RULE_ID.match(r.id)}
    assert used_areas == book.areas, f"areas without rules: {sorted(book.areas - used_areas)}"
    expected = {
        f"{g}-{n}"
        for g, count in zip("ABCDGE", (15, 9, 6, 5, 9, 3), strict=True)
        for n in range(1, count + 1)
    }
    assert {d.id for d in book.decisions} == expected


def id_problems(book: RuleBook) -> list[str]:
    """(a) ids unique and well formed; every row a full entry with a bold title."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in (*book.rules, *book.decisions):
        if row.id in seen:
            problems.append(f"line {row.line}: {row.id} is already defined on line {seen[row.id]}")
        seen[row.id] = row.line
        if len(row.cells) != 5 or not all(row.cells):
            problems.append(f"line {row.line}: {row.id} needs 5 non-empty cells, has {row.cells}")
        elif not row.cells[1].startswith("**"):
            problems.append(f"line {row.line}: {row.id} does not start with a bold title")
    for row in book.rules:
        m = RULE_ID.match(row.id)
        if not m:
            problems.append(f"line {row.line}: rule id {row.id!r} is not AREA-n")
        elif m.group(1) not in book.areas:
            problems.append(f"line {row.line}: {row.id} has a prefix missing from the Areas table")
    return problems


def source_problems(book: RuleBook) -> list[str]:
    """(b) every rule cites a reference of the References section or names a decision of this project."""
    decision_ids = {d.id for d in book.decisions}
    problems: list[str] = []
    for row in book.rules:
        if len(row.cells) != 5:
            continue  # reported by test_ids_are_unique_and_well_formed
        source = _without_code(row.cells[2])
        status = source.rstrip(" .").rsplit(" ", 1)[-1]
        if "·" not in source or status not in STATUSES:
            problems.append(f"line {row.line}: {row.id}: source must end in '· <status>': {source!r}")
        keys = set(BRACKETED.findall(source))
        problems += [
            f"line {row.line}: {row.id} cites [{key}], which is not in References"
            for key in sorted(keys - set(book.references))
        ]
        decisions = set(DECISION_MENTION.findall(source)) & decision_ids
        is_decision = bool(decisions) or PROJECT_DECISION in source
        if not keys & set(book.references) and not is_decision:
            problems.append(f"line {row.line}: {row.id} cites no reference and names no decision")
        if status == "decision" and not is_decision:
            problems.append(f"line {row.line}: {row.id} has the status 'decision' but names none")
    return problems


def reference_problems(book: RuleBook) -> list[str]:
    """(c) every bracketed key is a reference, and every reference is cited."""
    problems: list[str] = []
    cited: set[str] = set()
    for number, line in enumerate(book.lines, start=1):
        own = REFERENCE_ENTRY.match(line)
        for key in BRACKETED.findall(_without_code(line)):
            if own and key == own.group(1):
                continue
            cited.add(key)
            if key not in book.references:
                problems.append(f"line {number}: [{key}] is not in References")
    problems += [
        f"line {number}: reference [{key}] is never cited"
        for key, number in book.references.items()
        if key not in cited
    ]
    return problems


def mention_problems(book: RuleBook) -> list[str]:
    """Every id mentioned anywhere is defined; every internal link has its heading."""
    problems: list[str] = []
    anchors = {_slug(line.lstrip("#")) for line in book.lines if line.startswith("#")}
    for number, line in enumerate(book.lines, start=1):
        for m in ID_MENTION.finditer(_without_code(line)):
            if book.is_id_prefix(m.group(1)) and m.group(0) not in book.ids:
                problems.append(f"line {number}: {m.group(0)} is mentioned but not defined")
        problems += [
            f"line {number}: the link to #{target} has no heading"
            for target in LINK_TARGET.findall(line)
            if target not in anchors
        ]
    return problems


def test_ids_are_unique_and_well_formed() -> None:
    _report(id_problems(rule_book()))


def test_every_rule_cites_a_reference_or_is_a_decision_of_this_project() -> None:
    _report(source_problems(rule_book()))


def test_every_reference_is_defined_and_cited() -> None:
    _report(reference_problems(rule_book()))


def test_every_mentioned_id_and_link_resolves() -> None:
    _report(mention_problems(rule_book()))


def _settings_missing_from_rule_book(settings_class: type) -> list[str]:
    text = RULE_BOOK.read_text(encoding="utf-8")
    return [f.name for f in dataclasses.fields(settings_class) if f"`{f.name}`" not in text]


def test_every_site_setting_is_in_the_rule_book() -> None:
    """A setting a site can change is a clinical policy: the rule book names it with the rule it changes."""
    missing = _settings_missing_from_rule_book(DecisionSettings)
    assert not missing, f"DecisionSettings fields missing from docs/clinical-rules.md: {missing}"


def test_every_follow_up_setting_is_in_the_rule_book() -> None:
    missing = _settings_missing_from_rule_book(FollowupSettings)
    assert not missing, f"FollowupSettings fields missing from docs/clinical-rules.md: {missing}"


BROKEN = """
### Areas
| prefix | area | section |
|---|---|---|
| `CRS` | CRS | [CRS](#crs) |
| `ICE` | ICE | [ICE](#ice-lost) |
## CRS
| ID | Rule | Source | Setting (default) | Module |
|---|---|---|---|---|
| CRS-1 | **Fever.** 38.0 °C, see CRS-99 and A-1. | [Nobody 2020] · verified | — | `crs.py` |
| CRS-1 | **Again.** The same id. | [Lee 2019] · verified | — | `crs.py` |
| CRS-2 | No title, no source. | — | — | `crs.py` |
| CRS-3 | **Decided.** Without a decision. | [Lee 2019] · decision | — | `crs.py` |
| Crs-4 | **Lower case.** | [Lee 2019] · verified | — | `crs.py` |
| TOX-1 | **Unknown area.** | [Lee 2019] · verified | — | `crs.py` |
## References
- **[Lee 2019]** Lee DW, et al.
- **[Unused 2001]** Nobody.
"""


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (id_problems, "CRS-1 is already defined on line 10"),
        (id_problems, "CRS-2 does not start with a bold title"),
        (id_problems, "TOX-1 has a prefix missing from the Areas table"),
        (source_problems, "CRS-1 cites [Nobody 2020], which is not in References"),
        (source_problems, "CRS-2 cites no reference and names no decision"),
        (source_problems, "CRS-2: source must end in '· <status>'"),
        (source_problems, "CRS-3 has the status 'decision' but names none"),
        (reference_problems, "[Nobody 2020] is not in References"),
        (reference_problems, "reference [Unused 2001] is never cited"),
        (mention_problems, "CRS-99 is mentioned but not defined"),
        (mention_problems, "A-1 is mentioned but not defined"),
        (mention_problems, "the link to #ice-lost has no heading"),
    ],
)
def test_the_checks_find_what_a_broken_rule_book_gets_wrong(check, expected: str) -> None:
    assert expected in "\n".join(check(parse(BROKEN)))


def test_a_link_to_an_existing_heading_is_fine() -> None:
    assert "the link to #crs has no heading" not in "\n".join(mention_problems(parse(BROKEN)))


# ------------------------------------------------------------------------------------------------
# The code's side, switched on by the citation rewrite (which replaces every citation of the
# specification documents by rule-book ids and reference keys).

CODE_SUFFIXES = (".py", ".html")
# Besides hidden folders (.venv, .git, tool caches): migrations keep their historical help texts.
SKIP_PARTS = {"node_modules", "migrations", "data", "staticfiles"}
FORBIDDEN = (
    (re.compile(r"RULES\s*§"), "RULES §"),
    (re.compile(r"\bDECISIONS\b"), "DECISIONS"),
    (re.compile(r"FOLLOWUP\s*§"), "FOLLOWUP §"),
    (re.compile(r"CASES\.md"), "CASES.md"),
    (re.compile(r"INTEROP\.md"), "INTEROP.md"),
    (re.compile(r"INTEROP\s*§"), "INTEROP §"),
    (re.compile(r"\b(?:RULES|FOLLOWUP|ARCHITECTURE)\.md\b"), "a specification document (….md)"),
    (re.compile(r"§\s?\d"), "a section of a specification document (§…)"),
    (re.compile(r"\b(?:CRS|ICANS)-R\d\b"), "a rule id of the specification (CRS-R…, ICANS-R…)"),
    (re.compile(r"(?<![#\w])S(?:[1-9]|1\d|2[0-3])[a-k]?\b"), "a bare source id (S1a, S3 …)"),
    (re.compile(r"(?<![#\w])F(?:[1-9]|1\d|2[01])b?\b"), "a bare follow-up source id (F1 …)"),
)
AUTHOR_YEAR_KEY = re.compile(r"\[([A-Z][^\[\]]*\d{4}[a-z]?)\]")
MODULE_IN_CELL = re.compile(r"`((?:followup/)?[a-z_]+\.py)`")


def _code_files() -> list[Path]:
    files = [p for p in REPO.rglob("*") if p.suffix in CODE_SUFFIXES and p.is_file()]
    files += [p for p in (REPO / "docs").glob("*.md") if p != RULE_BOOK]
    this_file = Path(__file__).resolve()
    return sorted(
        p
        for p in files
        if p != this_file
        and not SKIP_PARTS.intersection(parts := p.relative_to(REPO).parts)
        and not any(part.startswith(".") for part in parts)
    )


# Part 1 of the rewrite covers the clinical core, its tests, the benchmarks and the docs; part 2 the
# Django apps, the templates and their tests (every other file the scan finds).
CORE_SCOPE = ("carttrack", "bench", "tests/carttrack", "docs")


def _in_core_scope(path: Path) -> bool:
    return path.relative_to(REPO).as_posix().startswith(tuple(f"{part}/" for part in CORE_SCOPE))


def citation_problems(book: RuleBook, path: Path, text: str) -> list[str]:
    """What one file cites that a reader cannot follow inside the repository."""
    rel = path.relative_to(REPO) if path.is_absolute() else path
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("# noqa", 1)[0]
        problems += [
            f"{rel}:{number}: cites {what}: {line.strip()}"
            for pattern, what in FORBIDDEN
            if pattern.search(code)
        ]
        problems += [
            f"{rel}:{number}: cites {m.group(0)}, which the rule book does not define"
            for m in ID_MENTION.finditer(code)
            if book.is_id_prefix(m.group(1)) and m.group(0) not in book.ids
        ]
        problems += [
            f"{rel}:{number}: cites [{key}], which is not in the rule book's References"
            for key in AUTHOR_YEAR_KEY.findall(code)
            if key not in book.references
        ]
    return problems


def _scan(files: list[Path]) -> list[str]:
    book = rule_book()
    return [
        problem
        for path in files
        for problem in citation_problems(book, path, path.read_text(encoding="utf-8"))
    ]


def test_the_scan_covers_the_core_and_leaves_the_django_apps_to_part_2() -> None:
    core = {p.relative_to(REPO).as_posix() for p in _code_files() if _in_core_scope(p)}
    assert {"carttrack/crs.py", "carttrack/followup/sledai.py", "bench/grading.py"} <= core
    assert {"tests/carttrack/test_crs.py", "docs/api.md"} <= core
    assert not {p for p in core if p.startswith(("monitoring/", "alerts/", "templates/", "tests/alerts/"))}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("FEVER_C = 38.0  # RULES §1.1 (S1a)", "cites RULES §"),
        ("# see DECISIONS A-1", "cites DECISIONS"),
        ('"""Parse a case (CASES.md)."""', "cites CASES.md"),
        ("# FOLLOWUP §3.1", "cites FOLLOWUP §"),
        ("# as in §4.6", "a section of a specification document"),
        ("# the FHIR rules (INTEROP §2)", "cites INTEROP §"),
        ("# follow-up kinds (FOLLOWUP.md)", "a specification document (….md)"),
        ("# computed in the request (ARCHITECTURE.md)", "a specification document (….md)"),
        ("# CRS-R3 device beats flow", "a rule id of the specification"),
        ("# ceiling (S22)", "a bare source id"),
        ("# weights (F5)", "a bare follow-up source id"),
        ("# CRS-99 fever", "cites CRS-99, which the rule book does not define"),
        ("# [Nobody 2020] Table 1", "cites [Nobody 2020], which is not in the rule book's References"),
    ],
)
def test_the_scan_names_what_a_reader_cannot_follow(line: str, expected: str) -> None:
    assert expected in "\n".join(citation_problems(rule_book(), Path("x.py"), line))


def test_a_rule_book_citation_passes_the_scan() -> None:
    line = "FEVER_C = 38.0  # CRS-1: fever ≥ 38.0 °C [Lee 2019] [Santomasso 2021] p5; A-1 unrounded"
    assert citation_problems(rule_book(), Path("x.py"), line) == []


def test_the_core_cites_only_the_rule_book() -> None:
    _report(_scan([p for p in _code_files() if _in_core_scope(p)]))


def test_the_django_apps_cite_only_the_rule_book() -> None:
    _report(_scan([p for p in _code_files() if not _in_core_scope(p)]))


def test_every_core_module_the_rule_book_names_exists() -> None:
    book = rule_book()
    _report(
        [
            f"docs/clinical-rules.md:{row.line}: {row.id} names carttrack/{name}, which does not exist"
            for row in (*book.rules, *book.decisions)
            for name in MODULE_IN_CELL.findall(row.cells[-1])
            if not (REPO / "carttrack" / name).exists()
        ]
    )
