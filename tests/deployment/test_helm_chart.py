"""deploy/helm/carttrack, rendered by Helm's engine: every object is valid Kubernetes for every release the
chart supports, and the objects keep the promises docs/deployment.md makes (probes, one scheduler,
budgets that allow a drain, an HPA on web, migrations before the workloads, no secrets)."""

import re

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions
from packaging.version import Version

from .chart import (
    COMPONENT,
    SECRET_NAME,
    RenderError,
    container,
    env_names,
    pod_spec,
    render,
    render_raw,
    selects,
)
from .layout import (
    CHART_DIR,
    PROCESSES,
    REPLICA_READERS,
    SECRET_SETTINGS,
    SINGLETONS,
    known_env_names,
    runs_beat,
)

CHART = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
VALUES = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
MIN_KUBERNETES = Version(re.fullmatch(r">=\s*(\d+\.\d+)\.\d+(?:-0)?", CHART["kubeVersion"]).group(1))
# Every Kubernetes release kubernetes-validate has schemas for, from the chart's minimum on.
KUBERNETES_VERSIONS = sorted({v for v in all_versions() if Version(v) >= MIN_KUBERNETES}, key=Version)

VARIANTS = {
    "defaults": {},
    "fixed web replicas": {"web": {"autoscaling": {"enabled": False}, "replicas": 3}},
    "ingress with TLS": {
        "ingress": {"enabled": True, "className": "nginx", "tlsSecretName": "carttrack-tls"},
    },
    "no dispatcher": {"dispatcher": {"enabled": False}},
    "own service account, no policy": {
        "serviceAccount": {"create": False, "name": "hospital-apps"},
        "networkPolicy": {"enabled": False},
        "topologySpread": {"enabled": False},
    },
}
FULL = {"dispatcher": {"enabled": True}, "ingress": {"enabled": True}}
REQUIRED_SECRET_KEYS = {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"}


def component(obj: dict) -> str:
    return obj["metadata"]["labels"][COMPONENT]


def test_the_chart_supports_current_kubernetes_releases():
    assert len(KUBERNETES_VERSIONS) >= 3, KUBERNETES_VERSIONS
    assert Version(KUBERNETES_VERSIONS[-1]) >= Version("1.33")


def assert_valid(objects, version: str) -> None:
    for obj in objects:
        # strict: a misspelt or misplaced field is an error, not an ignored key.
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{obj['kind']} {obj['metadata']['name']} on {version}: {path}: {exc.message}")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_for_every_supported_kubernetes_release(version):
    assert_valid(render(FULL).objects, version)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_is_valid_for_the_oldest_and_newest_release(variant):
    objects = render(VARIANTS[variant]).objects
    assert objects
    for version in (KUBERNETES_VERSIONS[0], KUBERNETES_VERSIONS[-1]):
        assert_valid(objects, version)


def test_the_validator_refuses_what_kubernetes_would_refuse():
    web = render().one("Deployment", "web")
    broken = yaml.safe_load(yaml.safe_dump(web))
    container(broken)["readinesProbe"] = container(broken).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_helm_lint_finds_nothing_above_information():
    lint = render(FULL).lint
    assert not lint["errors"]
    assert [m for m in lint["messages"] if m["severity"] >= 2] == []


def test_an_install_without_the_secret_is_refused_with_the_value_to_set():
    with pytest.raises(RenderError, match=r"secret\.name is required"):
        render_raw({})


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"scheduler": {"replicas": 2}}, "replicas"),
        ({"web": {"replica": 3}}, "replica"),
        ({"workers": {"critical": {"replicas": 0}}}, "replicas"),
        ({"config": {"SECRET_KEY": "in-values"}}, "SECRET_KEY"),
        ({"config": {"DATABASE_URL": "postgres://u:p@db/carttrack"}}, "DATABASE_URL"),
    ],
)
def test_misspelt_values_a_second_scheduler_and_secrets_in_values_are_refused(values, named):
    with pytest.raises(RenderError, match=named):
        render(values)


def test_the_chart_holds_no_secret_and_no_stateful_service():
    assert not CHART.get("dependencies"), "PostgreSQL, the broker and Redis are external"
    assert not (CHART_DIR / "charts").exists()
    for variant in VARIANTS.values():
        kinds = {o["kind"] for o in render(variant).objects}
        assert not kinds & {"Secret", "StatefulSet", "PersistentVolumeClaim", "DaemonSet"}, kinds
    assert not set(VALUES["config"]) & SECRET_SETTINGS


def test_the_configmap_sets_only_settings_the_code_reads():
    (config_map,) = render().of_kind("ConfigMap")
    assert config_map["data"] == {k: str(v) for k, v in VALUES["config"].items()}
    assert set(config_map["data"]) <= known_env_names()
    assert config_map["data"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


def test_each_process_of_the_layout_runs_its_command_in_the_one_image():
    rendered = render(FULL)
    images = set()
    for name, command in PROCESSES.items():
        kind = "Job" if name == "migrate" else "Deployment"
        c = container(rendered.one(kind, name))
        assert tuple(c["command"][: len(command)]) == command, (name, c["command"])
        images.add(c["image"])
    assert images == {f"{VALUES['image']['repository']}:{CHART['appVersion']}"}


def test_web_pods_are_probed_on_health_through_the_service_port_with_an_allowed_host():
    rendered = render(FULL)
    (service,) = rendered.of_kind("Service")
    served = [d for d in rendered.of_kind("Deployment") if selects(service["spec"]["selector"], d)]
    assert [component(d) for d in served] == ["web"]
    c = container(served[0])
    (target,) = [p["targetPort"] for p in service["spec"]["ports"]]
    assert target in {p["name"] for p in c["ports"]}
    allowed_hosts = VALUES["config"]["ALLOWED_HOSTS"].split(",")
    for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
        get = c[probe_name]["httpGet"]
        headers = {h["name"]: h["value"] for h in get["httpHeaders"]}
        assert get["path"] == "/health/" and get["port"] == target, probe_name
        assert headers["Host"] in allowed_hosts and headers["X-Forwarded-Proto"] == "https", probe_name
    # Out of the Service within half a minute of losing the database; restarted only after minutes.
    readiness, liveness = c["readinessProbe"], c["livenessProbe"]
    assert readiness["periodSeconds"] * readiness["failureThreshold"] <= 30
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 120


def test_every_worker_is_pinged_by_the_node_name_it_runs_under():
    for deployment in render().of_kind("Deployment"):
        if not component(deployment).startswith("worker-"):
            continue
        c = container(deployment)
        node = c["command"][c["command"].index("-n") + 1]
        assert node.endswith("@%h")
        ping = c["livenessProbe"]["exec"]["command"][-1]
        assert f"inspect ping -d {node.replace('%h', '$HOSTNAME')} " in ping, ping
        ping_timeout = int(re.search(r"--timeout (\d+)", ping).group(1))
        assert ping_timeout < c["livenessProbe"]["timeoutSeconds"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_exactly_one_scheduler_and_one_dispatcher_never_rolled_side_by_side(variant):
    rendered = render(VARIANTS[variant])
    deployments = rendered.of_kind("Deployment")
    beats = [d for d in deployments if runs_beat(container(d)["command"])]
    assert [component(d) for d in beats] == ["scheduler"]
    autoscaled = {h["spec"]["scaleTargetRef"]["name"] for h in rendered.of_kind("HorizontalPodAutoscaler")}
    budgeted = [p for p in rendered.of_kind("PodDisruptionBudget")]
    for name in SINGLETONS:
        found = [d for d in deployments if component(d) == name]
        if name == "dispatcher" and not VARIANTS[variant].get("dispatcher", {}).get("enabled", True):
            assert found == []
            continue
        (singleton,) = found
        assert singleton["spec"]["replicas"] == 1
        assert singleton["spec"]["strategy"] == {"type": "Recreate"}
        assert singleton["metadata"]["name"] not in autoscaled
        assert not [p for p in budgeted if selects(p["spec"]["selector"]["matchLabels"], singleton)]
        tolerations = {t["key"]: t for t in pod_spec(singleton)["tolerations"]}
        assert (
            tolerations["node.kubernetes.io/unreachable"]["tolerationSeconds"]
            == VALUES["singletonFailoverSeconds"]
        )
        assert VALUES["singletonFailoverSeconds"] < 300, "faster than Kubernetes' default eviction"


@pytest.mark.parametrize("variant", ["defaults", "fixed web replicas"])
def test_the_hpa_scales_the_web_deployment_and_only_it(variant):
    rendered = render(VARIANTS[variant])
    web = rendered.one("Deployment", "web")
    hpas = rendered.of_kind("HorizontalPodAutoscaler")
    if variant == "fixed web replicas":
        assert hpas == [] and web["spec"]["replicas"] == 3
        return
    (hpa,) = hpas
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = {"apiVersion": web["apiVersion"], "kind": "Deployment", "name": web["metadata"]["name"]}
    assert hpa["spec"]["scaleTargetRef"] == target
    assert "replicas" not in web["spec"], "an upgrade would reset the HPA's replica count"
    assert hpa["spec"]["minReplicas"] >= 2, "one host lost must leave a web pod"
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert container(web)["resources"]["requests"]["cpu"], "CPU utilisation is measured against the request"


def minimum_replicas(rendered, workload: dict) -> int:
    for hpa in rendered.of_kind("HorizontalPodAutoscaler"):
        if hpa["spec"]["scaleTargetRef"]["name"] == workload["metadata"]["name"]:
            return hpa["spec"]["minReplicas"]
    return workload["spec"]["replicas"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_budgets_select_existing_pods_and_still_allow_a_drain(variant):
    rendered = render(VARIANTS[variant])
    workloads = rendered.workloads()
    budgets = rendered.of_kind("PodDisruptionBudget")
    assert {component(p) for p in budgets} >= {"web", "worker-critical"}
    for budget in budgets:
        name = budget["metadata"]["name"]
        selected = [w for w in workloads if selects(budget["spec"]["selector"]["matchLabels"], w)]
        assert len(selected) == 1, (name, [w["metadata"]["name"] for w in selected])
        (workload,) = selected
        assert workload["kind"] == "Deployment"
        replicas = minimum_replicas(rendered, workload)
        spec = budget["spec"]
        if "minAvailable" in spec:
            assert 1 <= spec["minAvailable"] < replicas, f"{name} would block every drain"
        else:
            assert 1 <= spec["maxUnavailable"] < replicas or replicas == 1


def test_each_selector_selects_its_own_pods_only():
    rendered = render(FULL)
    workloads = rendered.workloads()
    for deployment in rendered.of_kind("Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        selected = [w["metadata"]["name"] for w in workloads if selects(selector, w)]
        assert selected == [deployment["metadata"]["name"]]


def test_migrations_run_as_a_hook_before_any_workload_with_the_workloads_settings():
    rendered = render()
    job = rendered.one("Job", "migrate")
    hooks = set(job["metadata"]["annotations"]["helm.sh/hook"].split(","))
    assert hooks == {"pre-install", "pre-upgrade"}
    assert container(job)["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    # A pre-install hook runs before the release's ServiceAccount and ConfigMap exist.
    assert "serviceAccountName" not in pod_spec(job)
    assert "envFrom" not in container(job)
    (config_map,) = rendered.of_kind("ConfigMap")
    inline = {e["name"]: e["value"] for e in container(job)["env"] if "value" in e}
    assert inline == config_map["data"]

    from django.core.management import get_commands

    assert "migrate" in get_commands()


def test_only_web_and_the_default_pool_get_the_read_replica():
    rendered = render(FULL)
    for workload in rendered.workloads():
        gets_replica = "DATABASE_REPLICA_URL" in env_names(rendered, workload)
        assert gets_replica == (component(workload) in REPLICA_READERS), component(workload)


def test_secrets_come_from_the_named_secret_and_required_ones_stop_a_pod_without_them():
    for workload in render(FULL).workloads():
        env = container(workload)["env"]
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "valueFrom" in e}
        assert set(refs) <= SECRET_SETTINGS
        assert {ref["name"] for ref in refs.values()} == {SECRET_NAME}
        assert all(ref["key"] == name for name, ref in refs.items())
        assert {name for name, ref in refs.items() if not ref.get("optional")} == REQUIRED_SECRET_KEYS


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_pod_runs_unprivileged_on_a_read_only_root_with_bounded_resources(variant):
    for workload in render(VARIANTS[variant]).workloads():
        spec, c = pod_spec(workload), container(workload)
        name = workload["metadata"]["name"]
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] != 0, name
        assert spec["automountServiceAccountToken"] is False, name
        security = c["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in c["volumeMounts"]}
        assert set(mounts) == {"/tmp", VALUES["config"]["CARTTRACK_VAR_DIR"]}, name
        assert all("emptyDir" in v for v in mounts.values()), name
        assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"], name
        assert c["resources"]["limits"]["memory"], name


def test_the_scheduler_keeps_its_schedule_in_the_writable_directory():
    command = container(render().one("Deployment", "scheduler"))["command"]
    (schedule,) = [a.split("=", 1)[1] for a in command if a.startswith("--schedule=")]
    assert schedule.startswith(VALUES["config"]["CARTTRACK_VAR_DIR"] + "/")


def test_network_policy_admits_the_web_port_and_nothing_else():
    rendered = render()
    policies = {p["metadata"]["name"]: p for p in rendered.of_kind("NetworkPolicy")}
    workloads = rendered.workloads()
    deny = next(p for p in policies.values() if "ingress" not in p["spec"])
    assert deny["spec"]["policyTypes"] == ["Ingress"]
    assert all(selects(deny["spec"]["podSelector"]["matchLabels"], w) for w in workloads)
    (allow,) = [p for p in policies.values() if "ingress" in p["spec"]]
    admitted = [w for w in workloads if selects(allow["spec"]["podSelector"]["matchLabels"], w)]
    assert [component(w) for w in admitted] == ["web"]
    (rule,) = allow["spec"]["ingress"]
    assert [p["port"] for p in rule["ports"]] == [p["name"] for p in container(admitted[0])["ports"]]


def test_the_ingress_routes_to_the_web_service_port():
    rendered = render(VARIANTS["ingress with TLS"])
    (ingress,) = rendered.of_kind("Ingress")
    (service,) = rendered.of_kind("Service")
    (rule,) = ingress["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert ingress["spec"]["tls"] == [{"hosts": [rule["host"]], "secretName": "carttrack-tls"}]
    assert rule["host"] in VALUES["config"]["ALLOWED_HOSTS"].split(",")
