"""Render the Helm chart with Helm's own engine, in a process of its own.

    python -m tests.deployment.helm_render < request.json > manifests.json

The request is {"chart": dir, "values": {...}, "release": name, "namespace": ns}; the answer is
{"manifests": {template path: text}} or {"error": message} (exit status 1). helm-python-sdk loads
Helm's Go SDK as a shared library, and a Go runtime brings its own threads and signal handlers:
it runs here, never inside the pytest process (whose timeouts use signals).
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    import helm_python

    request = json.load(sys.stdin)
    try:
        with helm_python.Chart.load(request["chart"]) as chart:
            manifests = chart.render(
                values=request["values"],
                name=request["release"],
                namespace=request["namespace"],
                is_install=True,
            )
        lint = helm_python.lint(request["chart"], request["values"], strict=True)
    except helm_python.HelmError as exc:
        json.dump({"error": str(exc)}, sys.stdout)
        return 1
    json.dump({"manifests": manifests, "lint": lint}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
