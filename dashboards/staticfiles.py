"""Serve Plotly's JavaScript from the installed ``plotly`` package through Django static files.

Only ``plotly.min.js`` is exposed (as ``plotly/plotly.min.js``): the package's ``package_data``
folder also holds example data sets and a widget bundle that have no business in STATIC_ROOT.
``collectstatic`` copies it like any other asset (so WhiteNoise serves it in production, no CDN),
and the development/test servers find it through this finder.
"""

from __future__ import annotations

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

PREFIX = "plotly"
FILES = ("plotly.min.js",)
#: The system check of this finder (``manage.py check``, so every start): Plotly's script is missing.
PLOTLY_MISSING = "dashboards.E001"


def plotly_package_data() -> Path:
    return Path(plotly.__file__).resolve().parent / "package_data"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.root = plotly_package_data()
        self.storage = FileSystemStorage(location=str(self.root))
        self.storage.prefix = PREFIX

    def check(self, **kwargs):
        missing = [name for name in FILES if not (self.root / name).is_file()]
        if missing:
            return [
                Error(
                    f"The plotly package lacks {', '.join(missing)} in {self.root}: the timeline charts "
                    "would not draw.",
                    hint="Reinstall the locked dependencies from uv.lock (uv sync --frozen).",
                    id=PLOTLY_MISSING,
                )
            ]
        return []

    def find(self, path, find_all=False, **kwargs):
        for name in FILES:
            if path == f"{PREFIX}/{name}":
                found = str(self.root / name)
                return [found] if find_all else found
        return [] if find_all else None

    def list(self, ignore_patterns):
        for name in FILES:
            if (self.root / name).is_file():
                yield name, self.storage
