"""The Helm chart as the tests see it: rendered by Helm's engine (tests/deployment/helm_render.py),
parsed into Kubernetes objects, and looked up by kind and component."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from dataclasses import dataclass

import yaml

from .layout import CHART_DIR, ROOT

RELEASE = "ct"
NAMESPACE = "carttrack"
SECRET_NAME = "carttrack-env"
# The smallest values an install needs: the name of the Secret the operator created.
REQUIRED_VALUES = {"secret": {"name": SECRET_NAME}}
COMPONENT = "app.kubernetes.io/component"


class RenderError(Exception):
    pass


@functools.cache
def _render(values_json: str) -> dict:
    values = json.loads(values_json)
    request = {"chart": str(CHART_DIR), "values": values, "release": RELEASE, "namespace": NAMESPACE}
    done = subprocess.run(
        [sys.executable, "-m", "tests.deployment.helm_render"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    if not done.stdout:
        raise RuntimeError(f"the renderer died (exit {done.returncode}): {done.stderr[-2000:]}")
    answer = json.loads(done.stdout)
    if "error" in answer:
        raise RenderError(answer["error"])
    return answer


def merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        nested = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = merge(merged[key], value) if nested else value
    return merged


@dataclass(frozen=True)
class Rendered:
    objects: tuple[dict, ...]
    lint: dict

    def of_kind(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, component: str) -> dict:
        found = [o for o in self.of_kind(kind) if o["metadata"]["labels"].get(COMPONENT) == component]
        assert len(found) == 1, f"expected one {kind} for {component}, found {len(found)}"
        return found[0]

    def workloads(self) -> list[dict]:
        """Deployments and the Job: everything that runs pods."""
        return self.of_kind("Deployment") + self.of_kind("Job")

    def components(self, kind: str) -> set[str]:
        return {o["metadata"]["labels"][COMPONENT] for o in self.of_kind(kind)}


def render(values: dict | None = None) -> Rendered:
    """The chart's objects for REQUIRED_VALUES merged with ``values`` (as ``helm template`` would)."""
    answer = _render(json.dumps(merge(REQUIRED_VALUES, values or {}), sort_keys=True))
    objects = tuple(
        doc
        for path, text in sorted(answer["manifests"].items())
        if path.endswith((".yaml", ".yml"))
        for doc in yaml.safe_load_all(text)
        if doc
    )
    return Rendered(objects, answer["lint"])


def render_raw(values: dict) -> dict:
    """Render exactly ``values`` (no defaults added): raises RenderError when Helm refuses them."""
    return _render(json.dumps(values, sort_keys=True))


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def container(workload: dict) -> dict:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1, "one process per pod"
    return containers[0]


def env_names(rendered: Rendered, workload: dict) -> set[str]:
    """Every variable a workload's container gets: its env entries and the ConfigMaps it takes whole."""
    c = container(workload)
    names = {entry["name"] for entry in c.get("env", [])}
    config_maps = {cm["metadata"]["name"]: cm for cm in rendered.of_kind("ConfigMap")}
    for source in c.get("envFrom", []):
        names |= set(config_maps[source["configMapRef"]["name"]]["data"])
    return names


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def selects(selector: dict, workload: dict) -> bool:
    """Whether a label selector (matchLabels) selects a workload's pods."""
    return matches(selector, workload["spec"]["template"]["metadata"]["labels"])
