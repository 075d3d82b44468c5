"""An app module as it was at an earlier git revision, loaded beside the current one (bench only), so
a benchmark can time the code before a change against the code after it in the same run."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def module_at(rev: str, path: str, name: str) -> ModuleType:
    """``path`` (e.g. ``dashboards/census.py``) at ``rev``, as the module ``name`` (e.g.
    ``dashboards.census_at_rev``): its package is the name's parent, so its relative imports resolve
    to the current package; it is registered in ``sys.modules`` (its dataclasses look their module up)."""
    show = ["git", "show", f"{rev}:{path}"]
    source = subprocess.run(show, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    file = Path(os.environ.get("TMPDIR", "/tmp")) / f"{name.replace('.', '_')}_{rev.replace('/', '_')}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
