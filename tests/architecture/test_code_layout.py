"""How the code is laid out (docs/architecture.md, "Layers"), in the rules import-linter cannot check:
no import hidden in a function body, a long module says in its first line why it is one piece, a
service takes keyword arguments only, and the database is read through documented Django APIs.

Each rule is a scan of the repository's app packages (the ``root_packages`` of the import contracts in
``pyproject.toml``) and a test that the scan finds a planted breach, so that it cannot pass by
looking at nothing."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES: tuple[str, ...] = tuple(
    tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"][
        "root_packages"
    ]
)
#: A module longer than this says in its first line why it is one piece (issue 12, "Done when").
LONG_MODULE_LINES = 400
ONE_PIECE = re.compile(r"\bone (?:piece|module)\b", re.IGNORECASE)


def app_modules() -> list[Path]:
    """Every Python module of the app packages and the project package (migrations are generated)."""
    return sorted(
        path
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        if "migrations" not in path.relative_to(REPO).parts
    )


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix() if path.is_absolute() else path.as_posix()


def _report(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


# --- imports at module level only ------------------------------------------------------------------


def _is_app_config_ready(node: ast.AST, parent: ast.AST) -> bool:
    """``ready()`` of an ``AppConfig``: Django's documented place for start-up wiring (signal receivers,
    registrations) that needs the app registry, so it may import what is not importable earlier."""
    if not (isinstance(node, ast.FunctionDef) and node.name == "ready" and isinstance(parent, ast.ClassDef)):
        return False
    return any(
        (isinstance(base, ast.Name) and base.id == "AppConfig")
        or (isinstance(base, ast.Attribute) and base.attr == "AppConfig")
        for base in parent.bases
    )


def function_level_imports(path: Path, source: str) -> list[str]:
    """Imports written inside a function (or lambda) body, except in ``AppConfig.ready``.  Imports
    under ``if TYPE_CHECKING:`` at module level are module-level imports."""
    problems: list[str] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom) and function is not None:
                names = ", ".join(alias.name for alias in child.names)
                module = (
                    f"{'.' * child.level}{child.module} "
                    if isinstance(child, ast.ImportFrom) and child.module
                    else ""
                )
                problems.append(f"{_rel(path)}:{child.lineno}: imports {module}{names} inside {function}()")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                if _is_app_config_ready(child, node):
                    continue
                visit(child, getattr(child, "name", "lambda"))
            else:
                visit(child, function)

    visit(ast.parse(source, filename=str(path)), None)
    return problems


def test_no_app_module_imports_inside_a_function() -> None:
    """An import inside a function hides a dependency from the reader and can dodge a contract or a
    cycle (import-linter sees it, but a cycle within an app it does not forbid)."""
    _report(
        [p for path in app_modules() for p in function_level_imports(path, path.read_text(encoding="utf-8"))]
    )


PLANTED_IMPORTS = """
from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from monitoring.models import Infusion


def enqueue(evaluation_id):
    from .tasks import process_findings

    process_findings.delay(evaluation_id)


class Builder:
    def build(self):
        import json

        return json


class FollowupConfig(AppConfig):
    def ready(self):
        from . import receivers


class NotAnAppConfig:
    def ready(self):
        from . import receivers
"""


def test_the_scan_finds_an_import_inside_a_function() -> None:
    found = function_level_imports(Path("followup/services.py"), PLANTED_IMPORTS)
    assert found == [
        "followup/services.py:11: imports .tasks process_findings inside enqueue()",
        "followup/services.py:18: imports json inside build()",
        "followup/services.py:30: imports receivers inside ready()",
    ]


# --- long modules say why they are one piece ----------------------------------------------------


def long_module_problems(path: Path, source: str) -> list[str]:
    lines = source.count("\n") + (0 if source.endswith("\n") else 1)
    if lines <= LONG_MODULE_LINES:
        return []
    tree = ast.parse(source, filename=str(path))
    docstring = ast.get_docstring(tree, clean=False)
    first = source.splitlines()[0] if source else ""
    if docstring is None or tree.body[0].lineno != 1 or not ONE_PIECE.search(first):
        return [
            f"{_rel(path)}: {lines} lines, and its first line does not say why it is one piece: {first!r}"
        ]
    return []


def test_every_long_module_says_in_its_first_line_why_it_is_one_piece() -> None:
    _report(
        [p for path in app_modules() for p in long_module_problems(path, path.read_text(encoding="utf-8"))]
    )


@pytest.mark.parametrize(
    ("first_line", "ok"),
    [
        ('"""One piece: every tablet screen shares the patient decorator."""', True),
        ('"""CRS grading as one state machine: one module because episodes share state."""', True),
        ('"""Writes of the monitoring app."""', False),
        ("import os  # one piece", False),  # not the module's docstring
    ],
)
def test_the_scan_reads_the_first_line_of_a_long_module(first_line: str, ok: bool) -> None:
    source = first_line + "\n" + "x = 1\n" * LONG_MODULE_LINES
    assert (long_module_problems(Path("monitoring/views.py"), source) == []) is ok
    assert long_module_problems(Path("monitoring/views.py"), '"""Short."""\nx = 1\n') == []


# --- services take keyword arguments only ------------------------------------------------------


def _functions(source: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {
        node.name: node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def public_services() -> dict[Path, set[str]]:
    """The services callers use: the public functions of every ``services.py``, and for a services
    package (``alerts/services/``) the functions its ``__init__`` re-exports, in the modules that
    define them (their other functions are the package's building blocks)."""
    found: dict[Path, set[str]] = {}
    for path in app_modules():
        if path.name == "services.py":
            names = {n for n in _functions(path.read_text(encoding="utf-8")) if not n.startswith("_")}
            found.setdefault(path, set()).update(names)
        elif path.name == "__init__.py" and path.parent.name == "services":
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                    module = path.parent / f"{node.module}.py"
                    found.setdefault(module, set()).update(alias.name for alias in node.names)
    return found


def positional_services(path: Path, source: str, names: set[str]) -> list[str]:
    """Which of the functions ``names`` defined in ``source`` take an argument by position."""
    problems: list[str] = []
    for name, node in sorted(_functions(source).items()):
        if name not in names:
            continue
        positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        if node.args.vararg is not None:
            positional.append(f"*{node.args.vararg.arg}")
        if positional:
            problems.append(f"{_rel(path)}:{node.lineno}: {name}() takes {', '.join(positional)} by position")
    return problems


def test_the_services_are_found() -> None:
    services = {_rel(path): names for path, names in public_services().items()}
    assert "observation_record" in services["monitoring/services.py"]
    assert "course_evaluate" in services["followup/services.py"]
    assert "alert_process_evaluation" in services["alerts/services/raising.py"]
    assert "alert_resolve" in services["alerts/services/responses.py"]
    assert "add_step" not in services.get(
        "alerts/services/common.py", set()
    )  # a building block, not re-exported


def test_every_public_service_takes_keyword_arguments_only() -> None:
    """``services.alert_resolve(alert=…, user=…)``: a call reads the same everywhere, and an argument
    cannot land in the wrong place when a service gains one."""
    _report(
        [
            problem
            for path, names in public_services().items()
            for problem in positional_services(path, path.read_text(encoding="utf-8"), names)
        ]
    )


def test_the_scan_finds_a_service_taking_an_argument_by_position() -> None:
    source = (
        "def alert_resolve(alert, *, user): ...\ndef alert_ack(*, alert): ...\ndef add_step(alert): ...\n"
    )
    assert positional_services(
        Path("alerts/services/responses.py"), source, {"alert_resolve", "alert_ack"}
    ) == ["alerts/services/responses.py:1: alert_resolve() takes alert by position"]


# --- the database read through documented Django APIs ---------------------------------------------

#: Django internals the write path once used (issue 12 item 3) and their kin: not part of the
#: documented API, they change between releases.
ORM_INTERNALS = re.compile(
    r"\b(?:get_db_converters|get_col|get_compiler|SQLCompiler)\b"
    r"|connection\.ops\.|\.query\.(?:where|alias_map|get_compiler|select|add_\w+)"
)
#: What of ``Model._meta`` is documented: the Model _meta API (``get_field``, ``get_fields``) and the
#: read-only options ``label``, ``label_lower``, ``app_label``, ``model_name``, ``verbose_name``(``_plural``).
META_DOCUMENTED = {
    "get_field",
    "get_fields",
    "label",
    "label_lower",
    "app_label",
    "model_name",
    "verbose_name",
    "verbose_name_plural",
}
META_ATTRIBUTE = re.compile(r"\._meta\.(\w+)")


def orm_internal_uses(path: Path, source: str) -> list[str]:
    problems: list[str] = []
    for number, line in enumerate(source.splitlines(), start=1):
        code = line.split("#", 1)[0]
        if m := ORM_INTERNALS.search(code):
            problems.append(f"{_rel(path)}:{number}: uses Django's internal {m.group(0)!r}")
        problems += [
            f"{_rel(path)}:{number}: reads _meta.{attr}, which the Model _meta API does not document"
            for attr in META_ATTRIBUTE.findall(code)
            if attr not in META_DOCUMENTED
        ]
    return problems


def test_the_apps_use_documented_django_apis_only() -> None:
    _report([p for path in app_modules() for p in orm_internal_uses(path, path.read_text(encoding="utf-8"))])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("converters = connection.ops.get_db_converters(expression)", "uses Django's internal"),
        ("col = field.get_col(alias)", "uses Django's internal 'get_col'"),
        ("names = [f.name for f in Model._meta.fields]", "reads _meta.fields"),
        ("cols = Model._meta.concrete_fields", "reads _meta.concrete_fields"),
    ],
)
def test_the_scan_finds_an_undocumented_internal(line: str, expected: str) -> None:
    assert expected in "\n".join(orm_internal_uses(Path("monitoring/write_path.py"), line))


def test_the_documented_meta_api_passes_the_scan() -> None:
    source = 'f = Observation._meta.get_field("client_uuid")\nlabel = m._meta.label\nopts = model._meta\n'
    assert orm_internal_uses(Path("x.py"), source) == []


# --- system check ids: each app its own ---------------------------------------------------------

CHECK_ID = re.compile(r"\b([a-z_]+)\.([EWCI]\d{3})\b")


def check_id_problems(sources: dict[str, str]) -> list[str]:
    """A system check id (``app.E001``) is named after the app that raises it and raised in one app only:
    a reader who sees it in ``manage.py check`` finds the code from the id."""
    packages: dict[str, set[str]] = {}
    problems: list[str] = []
    for rel, source in sources.items():
        package = rel.split("/", 1)[0]
        for prefix, number in CHECK_ID.findall(source):
            if prefix not in PACKAGES:
                continue  # Django's own (security.W004 …) or not a check id
            packages.setdefault(f"{prefix}.{number}", set()).add(package)
            if prefix != package:
                problems.append(f"{rel}: uses the check id {prefix}.{number} of another app ({prefix})")
    problems += [f"{cid} is used by {sorted(used)}" for cid, used in packages.items() if len(used) > 1]
    return problems


def test_every_system_check_id_belongs_to_the_app_that_raises_it() -> None:
    _report(check_id_problems({_rel(p): p.read_text(encoding="utf-8") for p in app_modules()}))


def test_the_scan_finds_a_check_id_borrowed_from_another_app() -> None:
    sources = {
        "monitoring/handoff.py": 'checks.Error("no alerting", id="monitoring.E001")',
        "dashboards/staticfiles.py": 'Error("plotly lacks plotly.min.js", id="monitoring.E001")',
    }
    assert check_id_problems(sources) == [
        "dashboards/staticfiles.py: uses the check id monitoring.E001 of another app (monitoring)",
        "monitoring.E001 is used by ['dashboards', 'monitoring']",
    ]
