"""docs/security.md's role table says exactly what the matrix enforces."""

import re
from pathlib import Path

from accounts.permissions import MATRIX

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
ROLES = ["nurse", "physician", "coordinator", "admin"]


def test_documented_matrix_matches_the_code():
    documented = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"\|\s*`([a-z_]+\.[a-z_]+)`\s*\|(.*)\|\s*$", line)
        if match:
            cells = [c.strip() for c in match.group(2).split("|")]
            documented[match.group(1)] = frozenset(r for r, c in zip(ROLES, cells, strict=True) if c == "yes")
    assert documented == {cap: frozenset(str(r) for r in roles) for cap, roles in MATRIX.items()}
