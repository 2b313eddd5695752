"""deploy/kubernetes: rendered by kustomize, validated offline against the official Kubernetes
JSON schemas (kubernetes-validate, strict: unknown fields are errors), and the properties that
docs/kubernetes.md promises.

Every target is rendered from a copy of deploy/kubernetes in which each overlay's
secretGenerator files are created with throw-away values (the repository holds none): the base,
every overlay, and overlays/production with each component of components/. No cluster is
involved; the schemas ship inside the kubernetes-validate package and nothing here opens a
network connection (a fixture makes any attempt fail).
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from regression_analyzer.llm import KEY_VARS
from regression_analyzer.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes minor the manifests are meant for and the newest one whose schemas
# kubernetes-validate (>= 1.37) ships: every object must be valid in both.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

APP = "regression-analyzer"
SECRET_NAME = "regression-analyzer-secrets"
SECRET_MOUNT = "/run/secrets/regression-analyzer"
# The secrets the service reads, each also as NAME_FILE (credentials.read_secret).
SECRET_VARS = {"API_TOKEN", "QUEUE_PASSWORD", *KEY_VARS.values()}
SECRET_FILE_VARS = {f"{name}_FILE" for name in SECRET_VARS}
SETTING_VARS = {name.upper() for name in Settings.model_fields}
SELECTOR_KEYS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
)
COMMON_LABELS = (*SELECTOR_KEYS, "app.kubernetes.io/part-of")

OVERLAYS = sorted(
    p.name for p in (DEPLOY / "overlays").iterdir() if (p / "kustomization.yaml").exists()
)
COMPONENTS = sorted(
    p.name for p in (DEPLOY / "components").iterdir() if (p / "kustomization.yaml").exists()
)
TARGETS = [
    "base",
    *(f"overlays/{name}" for name in OVERLAYS),
    *(f"overlays/production+components/{name}" for name in COMPONENTS),
]
DEPLOYABLE = [target for target in TARGETS if target != "base"]
WITH_BUNDLED_REDIS = [target for target in TARGETS if "external-redis" not in target]


# --------------------------------------------------------------------------------------------
# Rendering


def kustomize_command() -> list[str]:
    """`kustomize build` (scripts/install-system-deps.sh installs it), else `kubectl kustomize`."""
    if exe := shutil.which("kustomize"):
        return [exe, "build"]
    if exe := shutil.which("kubectl"):
        return [exe, "kustomize"]
    message = "neither kustomize nor kubectl found: run scripts/install-system-deps.sh (as root)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def kustomization(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))


def generator_files(directory: Path) -> list[Path]:
    """The files a kustomization's secretGenerators read (`key=path` or `path`)."""
    files = []
    for generator in kustomization(directory).get("secretGenerator", []):
        for entry in generator.get("files", []):
            files.append(directory / entry.split("=", 1)[-1])
    return files


class Rendered:
    """The objects of one `kustomize build`."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str) -> dict[str, Any]:
        found = [o for o in self.all(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    def generated(self, kind: str, name: str) -> dict[str, Any]:
        """A generated ConfigMap/Secret: its name carries a content hash."""
        found = [
            o
            for o in self.all(kind)
            if re.fullmatch(rf"{name}(-[a-z0-9]{{10}})?", o["metadata"]["name"])
        ]
        assert len(found) == 1, f"expected one {kind} {name}(-hash), found {len(found)}"
        return found[0]

    @property
    def deployment(self) -> dict[str, Any]:
        return self.one("Deployment", APP)

    @property
    def api(self) -> dict[str, Any]:
        return container(self.deployment, "api")

    @property
    def settings(self) -> dict[str, str]:
        return self.generated("ConfigMap", "regression-analyzer-settings")["data"]

    @property
    def queue(self) -> dict[str, Any]:
        return self.one("StatefulSet", "regression-analyzer-queue")


class Renders:
    def __init__(self, workdir: Path, secret_values: set[str]) -> None:
        self.workdir = workdir
        self.secret_values = secret_values
        self._cache: dict[str, Rendered] = {}

    def __call__(self, target: str) -> Rendered:
        if target not in self._cache:
            self._cache[target] = Rendered(self._build(target))
        return self._cache[target]

    def _build(self, target: str) -> list[dict[str, Any]]:
        directory = self.workdir / target
        if "+" in target:  # an overlay plus a component: a kustomization made for the test
            overlay, component = target.split("+")
            directory = self.workdir / "test-overlays" / component.replace("/", "-")
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "kustomization.yaml").write_text(
                yaml.safe_dump(
                    {
                        "apiVersion": "kustomize.config.k8s.io/v1beta1",
                        "kind": "Kustomization",
                        "resources": [f"../../{overlay}"],
                        "components": [f"../../{component}"],
                    }
                ),
                encoding="utf-8",
            )
        result = subprocess.run(
            [*kustomize_command(), str(directory)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"kustomize build {target} failed:\n{result.stderr}"
        objects = [o for o in yaml.safe_load_all(result.stdout) if o]
        assert objects, f"{target} rendered nothing"
        return objects


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Renders:
    """Renders each target once, from a copy with throw-away secret files."""
    workdir = tmp_path_factory.mktemp("kubernetes")
    shutil.copytree(DEPLOY, workdir, dirs_exist_ok=True)
    secret_values = set()
    for overlay in OVERLAYS:
        for path in generator_files(workdir / "overlays" / overlay):
            value = f"test-only-{path.name}-{uuid.uuid4().hex}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value + "\n", encoding="utf-8")
            secret_values.add(value)
    return Renders(workdir, secret_values)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation must work offline: any connection attempt from this process fails."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# --------------------------------------------------------------------------------------------
# Helpers


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    found = [c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == name]
    assert len(found) == 1, f"no container {name} in {workload['metadata']['name']}"
    return found[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def match_labels(selector: dict[str, Any]) -> dict[str, str]:
    assert set(selector) == {"matchLabels"}, f"only matchLabels selectors here: {selector}"
    return selector["matchLabels"]


_QUANTITY_SUFFIXES = {
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
}


def quantity(value: object) -> Fraction:
    """A Kubernetes quantity ("500m", "2", "512Mi") as a number, so 0.5 == 500m."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)", str(value))
    assert match and match[2] in _QUANTITY_SUFFIXES, f"unexpected quantity {value!r}"
    return Fraction(match[1]) * _QUANTITY_SUFFIXES[match[2]]


def mounts(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["mountPath"]: m for m in c.get("volumeMounts", [])}


def volumes(workload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod_spec(workload).get("volumes", [])}


def volume_at(workload: dict[str, Any], c: dict[str, Any], path: str) -> dict[str, Any]:
    mount = mounts(c).get(path)
    assert mount is not None, f"nothing mounted at {path} in {c['name']}"
    return volumes(workload)[mount["name"]]


def env_values(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in c.get("env", [])}


def workloads(rendered: Rendered) -> Iterator[dict[str, Any]]:
    for kind in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"):
        yield from rendered.all(kind)


def shared_secret_name(rendered: Rendered) -> str:
    return volume_at(rendered.deployment, rendered.api, SECRET_MOUNT)["secret"]["secretName"]


# --------------------------------------------------------------------------------------------
# Schemas


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("target", TARGETS)
def test_every_object_is_valid_against_the_kubernetes_schemas(
    renders: Renders, target: str, version: str
) -> None:
    for obj in renders(target).objects:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            validated = kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            pytest.fail(
                f"{target}: {name} is invalid for Kubernetes {version} at {path}: {error.message}"
            )
        except kubernetes_validate.SchemaNotFoundError as error:
            pytest.fail(f"{target}: {name}: {error.message}")
        assert validated == version.rsplit(".", 1)[0], (
            f"validated against {validated}, not {version}"
        )


def test_strict_validation_rejects_an_unknown_field(renders: Renders) -> None:
    """The check above would catch a misspelt field (the schemas are the strict ones)."""
    deployment = yaml.safe_load(yaml.safe_dump(renders("base").deployment))
    pod_spec(deployment)["containers"][0]["securityContext"]["readOnlyRootFileSystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError, match="readOnlyRootFileSystem"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_kustomizations_use_only_local_files() -> None:
    """Rendering needs no network: no remote bases, no URLs in resources or components."""
    for path in DEPLOY.rglob("kustomization.yaml"):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in [*spec.get("resources", []), *spec.get("components", [])]:
            assert "://" not in entry and not entry.startswith(("github.com", "git@")), (
                f"{path.relative_to(ROOT)}: remote resource {entry}"
            )
            assert (path.parent / entry).exists(), f"{path.relative_to(ROOT)}: {entry} is missing"


# --------------------------------------------------------------------------------------------
# The service: Deployment


@pytest.mark.parametrize("target", TARGETS)
def test_rollout_keeps_capacity(renders: Renders, target: str) -> None:
    deployment = renders(target).deployment
    assert deployment["spec"]["replicas"] >= 2
    strategy = deployment["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] == 1


@pytest.mark.parametrize("target", TARGETS)
def test_resources_are_exactly_the_sized_ones(renders: Renders, target: str) -> None:
    resources = renders(target).api["resources"]
    assert quantity(resources["requests"]["memory"]) == quantity("512Mi")
    assert quantity(resources["requests"]["cpu"]) == quantity("500m")
    assert quantity(resources["limits"]["memory"]) == quantity("2Gi")
    assert quantity(resources["limits"]["cpu"]) == quantity("2")


@pytest.mark.parametrize("target", TARGETS)
def test_api_runs_as_uid_1000_hardened(renders: Renders, target: str) -> None:
    rendered = renders(target)
    pod = pod_spec(rendered.deployment)["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (1000, 1000, 1000)
    assert pod["runAsNonRoot"] is True
    assert pod["seccompProfile"]["type"] == "RuntimeDefault"
    ctx = rendered.api["securityContext"]
    assert (ctx["runAsUser"], ctx["runAsGroup"]) == (1000, 1000)
    assert ctx["runAsNonRoot"] is True
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"]["drop"] == ["ALL"]
    assert ctx["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod_spec(rendered.deployment)["automountServiceAccountToken"] is False
    assert pod_spec(rendered.deployment)["enableServiceLinks"] is False


@pytest.mark.parametrize("target", TARGETS)
def test_every_pod_meets_the_restricted_pod_security_basics(renders: Renders, target: str) -> None:
    """Redis too: non-root, read-only root, no privilege escalation, no capabilities."""
    for workload in workloads(renders(target)):
        spec = pod_spec(workload)
        pod_ctx = spec.get("securityContext", {})
        assert pod_ctx.get("seccompProfile", {}).get("type") == "RuntimeDefault"
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            ctx = c.get("securityContext", {})
            where = f"{workload['metadata']['name']}/{c['name']}"
            assert ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True, where
            assert ctx.get("runAsUser", pod_ctx.get("runAsUser", 0)) != 0, where
            assert ctx.get("readOnlyRootFilesystem") is True, where
            assert ctx.get("allowPrivilegeEscalation") is False, where
            assert ctx.get("privileged", False) is False, where
            assert ctx.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not ctx.get("capabilities", {}).get("add"), where


@pytest.mark.parametrize("target", TARGETS)
def test_writable_paths_are_volumes(renders: Renders, target: str) -> None:
    """The root is read-only: /tmp is a memory emptyDir of 256Mi (matplotlib's cache copy,
    see docs/container.md), and /data and /output are the shared claims at the paths the
    settings name."""
    rendered = renders(target)
    deployment, api, settings = rendered.deployment, rendered.api, rendered.settings
    tmp = volume_at(deployment, api, "/tmp")["emptyDir"]
    assert tmp["medium"] == "Memory"
    assert quantity(tmp["sizeLimit"]) == quantity("256Mi")
    assert settings["DATA_DIR"] == "/data" and settings["OUTPUT_DIR"] == "/output"
    data = volume_at(deployment, api, settings["DATA_DIR"])["persistentVolumeClaim"]["claimName"]
    output = volume_at(deployment, api, settings["OUTPUT_DIR"])["persistentVolumeClaim"][
        "claimName"
    ]
    assert data == "regression-analyzer-data" and output == "regression-analyzer-output"
    for path in ("/tmp", "/data", "/output"):
        assert not mounts(api)[path].get("readOnly", False), path
    # Anything the environment points to for scratch files must be on the tmpfs.
    for name in ("TMPDIR", "MPLCONFIGDIR"):
        value = env_values(api).get(name, {}).get("value") or settings.get(name)
        assert value is None or value.startswith("/tmp"), f"{name}={value} is on the read-only root"


@pytest.mark.parametrize("target", TARGETS)
def test_probes_and_port(renders: Renders, target: str) -> None:
    rendered = renders(target)
    api = rendered.api
    ports = {p["name"]: p for p in api["ports"]}
    assert ports["http"]["containerPort"] == 8000
    assert int(rendered.settings.get("PORT", "8000")) == 8000
    expected = {
        "readinessProbe": "/api/v1/ready",
        "livenessProbe": "/api/v1/health",
        "startupProbe": "/api/v1/health",
    }
    for probe_name, path in expected.items():
        get = api[probe_name]["httpGet"]
        assert get["path"] == path, probe_name
        assert get["port"] in ("http", 8000), probe_name
        # /health and /ready answer without a token: no header (no token in the pod spec).
        assert not get.get("httpHeaders"), probe_name
    startup = api["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60, "start-up allows < 60 s"


@pytest.mark.parametrize("target", TARGETS)
def test_termination_grace_exceeds_the_shutdown_grace(renders: Renders, target: str) -> None:
    rendered = renders(target)
    grace = pod_spec(rendered.deployment)["terminationGracePeriodSeconds"]
    shutdown = float(
        rendered.settings.get("SHUTDOWN_GRACE_S", Settings.model_fields["shutdown_grace_s"].default)
    )
    pre_stop = (
        rendered.api.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    )
    sleep = float(pre_stop[1]) if pre_stop[:1] == ["sleep"] else 0.0
    assert grace > sleep + shutdown, (
        f"{grace} s <= preStop {sleep} s + SHUTDOWN_GRACE_S {shutdown} s"
    )


@pytest.mark.parametrize("target", TARGETS)
def test_replicas_spread_across_nodes(renders: Renders, target: str) -> None:
    deployment = renders(target).deployment
    spec = pod_spec(deployment)
    spread = [
        c
        for c in spec.get("topologySpreadConstraints", [])
        if c["topologyKey"] == "kubernetes.io/hostname"
        and selects(match_labels(c["labelSelector"]), pod_labels(deployment))
    ]
    anti = (
        spec.get("affinity", {})
        .get("podAntiAffinity", {})
        .get("preferredDuringSchedulingIgnoredDuringExecution", [])
    )
    assert spread or anti, "no spreading of the replicas across nodes"


# --------------------------------------------------------------------------------------------
# Settings and secrets


@pytest.mark.parametrize("target", TARGETS)
def test_configmap_names_are_settings_the_service_knows(
    renders: Renders, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt variable would be ignored silently by the service: every name must be a
    field of Settings (or a secret's *_FILE), and the values must pass Settings' validation."""
    rendered = renders(target)
    settings = rendered.settings
    unknown = sorted(set(settings) - SETTING_VARS - SECRET_FILE_VARS)
    assert not unknown, f"not settings of the service: {unknown}"
    env_unknown = sorted(set(env_values(rendered.api)) - SETTING_VARS - SECRET_FILE_VARS)
    assert not env_unknown, f"container env names that the service does not read: {env_unknown}"
    for name in SETTING_VARS | SECRET_VARS | SECRET_FILE_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    loaded = load_settings()  # ConfigurationError names an invalid value
    assert loaded.shared_mode
    for name in ("WORKERS", "QUEUE_MAX", "JOB_TIMEOUT_S", "RETENTION_DAYS", "FORWARDED_ALLOW_IPS"):
        assert name in settings, f"{name} is not set"
    assert settings["LOG_FORMAT"] == "json"


def test_the_secret_names_are_read_by_the_service() -> None:
    source = (ROOT / "src/regression_analyzer/settings.py").read_text(encoding="utf-8")
    for name in SECRET_VARS - set(KEY_VARS.values()):
        assert f'read_secret("{name}")' in source, name


@pytest.mark.parametrize("target", TARGETS)
def test_secrets_are_files_in_the_secret_mount(renders: Renders, target: str) -> None:
    rendered = renders(target)
    api, env = rendered.api, env_values(rendered.api)
    mount = mounts(api)[SECRET_MOUNT]
    assert mount.get("readOnly") is True
    secret = volume_at(rendered.deployment, api, SECRET_MOUNT)["secret"]
    assert re.fullmatch(rf"{SECRET_NAME}(-[a-z0-9]{{10}})?", secret["secretName"])
    mode = secret["defaultMode"]
    assert mode & 0o040 and not mode & 0o007 and not mode & 0o222, f"mode {mode:o}"
    assert pod_spec(rendered.deployment)["securityContext"]["fsGroup"] == 1000  # the file group
    files = {f"{SECRET_MOUNT}/{item['path']}": item["key"] for item in secret["items"]}
    assert set(env) >= SECRET_FILE_VARS, f"missing: {sorted(SECRET_FILE_VARS - set(env))}"
    for name in SECRET_FILE_VARS:
        path = env[name].get("value", "")
        assert path in files, f"{name}={path!r} is not a file of the secret mount {SECRET_MOUNT}"
    for name in SECRET_VARS:
        assert name not in env, f"{name} is set directly in the environment"
        assert name not in rendered.settings, f"{name} is in the ConfigMap"


@pytest.mark.parametrize("target", TARGETS)
def test_no_secret_value_in_env_config_or_commands(renders: Renders, target: str) -> None:
    """The throw-away secret values reach the Secret's data only: not an env value, the
    ConfigMap, a command or a probe. No container takes a Secret into its environment."""
    rendered = renders(target)
    for obj in rendered.objects:
        if obj["kind"] == "Secret":
            continue
        text = yaml.safe_dump(obj)
        for value in renders.secret_values:
            assert value not in text, (
                f"a secret value is in {obj['kind']} {obj['metadata']['name']}"
            )
    for workload in workloads(rendered):
        spec = pod_spec(workload)
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            for source in c.get("envFrom", []):
                assert "secretRef" not in source, f"{c['name']}: envFrom a Secret"
            for e in c.get("env", []):
                assert "secretKeyRef" not in e.get("valueFrom", {}), (
                    f"{c['name']}: {e['name']} from a Secret"
                )
                assert e["name"] not in SECRET_VARS, f"{c['name']}: {e['name']} set directly"


@pytest.mark.parametrize("target", DEPLOYABLE)
def test_the_secret_is_generated_from_the_operators_files(renders: Renders, target: str) -> None:
    rendered = renders(target)
    secret = rendered.one("Secret", shared_secret_name(rendered))
    expected = {
        item["key"]
        for item in volume_at(rendered.deployment, rendered.api, SECRET_MOUNT)["secret"]["items"]
    }
    assert set(secret["data"]) == expected
    decoded = {base64.b64decode(v).decode().strip() for v in secret["data"].values()}
    assert decoded <= renders.secret_values, (
        "the Secret holds a value that is not the operator's file"
    )


def test_the_repository_holds_no_secret_value() -> None:
    """No Secret manifest, no literals; the generator's files are git-ignored."""
    for path in DEPLOY.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert not (doc and doc.get("kind") == "Secret"), (
                f"{path.relative_to(ROOT)} is a Secret"
            )
    for path in DEPLOY.rglob("kustomization.yaml"):
        for generator in yaml.safe_load(path.read_text(encoding="utf-8")).get(
            "secretGenerator", []
        ):
            assert set(generator) <= {"name", "type", "files", "options"}, (
                f"{path.relative_to(ROOT)}: only files for secretGenerator (no literals, envs)"
            )
        for file in generator_files(path.parent):
            where = file.relative_to(ROOT)
            if (ROOT / ".git").exists() and shutil.which("git"):
                tracked = subprocess.run(
                    ["git", "ls-files", "--error-unmatch", str(file)],
                    cwd=ROOT,
                    capture_output=True,
                    check=False,
                )
                assert tracked.returncode != 0, f"{where} is committed"
                ignored = subprocess.run(
                    ["git", "check-ignore", "-q", "--no-index", str(file)], cwd=ROOT, check=False
                )
                assert ignored.returncode == 0, f"{where} is not git-ignored"


# --------------------------------------------------------------------------------------------
# Storage, scaling, disruption, selectors


@pytest.mark.parametrize("target", TARGETS)
def test_shared_claims_are_read_write_many(renders: Renders, target: str) -> None:
    rendered = renders(target)
    for name in ("regression-analyzer-data", "regression-analyzer-output"):
        claim = rendered.one("PersistentVolumeClaim", name)
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"], name
        if target in DEPLOYABLE:  # the overlay names the cluster's RWX class
            assert claim["spec"].get("storageClassName"), (
                f"{target}: {name} has no storageClassName"
            )


@pytest.mark.parametrize("target", TARGETS)
def test_autoscaler(renders: Renders, target: str) -> None:
    rendered = renders(target)
    hpas = rendered.all("HorizontalPodAutoscaler")
    assert len(hpas) == 1
    hpa = hpas[0]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": APP,
    }
    assert hpa["spec"]["minReplicas"] >= 2
    if target == "base":
        assert hpa["spec"]["minReplicas"] == 2
    assert hpa["spec"]["maxReplicas"] == 10
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"] == [
        "cpu"
    ]
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["type"] == "Utilization"
    # kubectl apply sets spec.replicas again: the same count the autoscaler starts from.
    assert rendered.deployment["spec"]["replicas"] == hpa["spec"]["minReplicas"]


@pytest.mark.parametrize("target", TARGETS)
def test_disruption_budget_selects_the_service_pods(renders: Renders, target: str) -> None:
    rendered = renders(target)
    pdbs = [
        p
        for p in rendered.all("PodDisruptionBudget")
        if selects(match_labels(p["spec"]["selector"]), pod_labels(rendered.deployment))
    ]
    assert len(pdbs) == 1, "no PodDisruptionBudget for the service's pods"
    pdb = pdbs[0]
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"].get("minAvailable") == 1 or pdb["spec"].get("maxUnavailable") == 1
    if target in WITH_BUNDLED_REDIS:
        assert not selects(match_labels(pdb["spec"]["selector"]), pod_labels(rendered.queue))


@pytest.mark.parametrize("target", TARGETS)
def test_selectors_match_their_pods(renders: Renders, target: str) -> None:
    rendered = renders(target)
    deployment = rendered.deployment
    labels = pod_labels(deployment)
    assert selects(match_labels(deployment["spec"]["selector"]), labels)
    service = rendered.one("Service", APP)
    assert service["spec"]["type"] == "ClusterIP"
    assert selects(service["spec"]["selector"], labels)
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, "http")]
    if target in WITH_BUNDLED_REDIS:
        assert not selects(service["spec"]["selector"], pod_labels(rendered.queue))


@pytest.mark.parametrize("target", TARGETS)
def test_labels(renders: Renders, target: str) -> None:
    rendered = renders(target)
    for obj in rendered.objects:
        labels = obj["metadata"].get("labels", {})
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        assert labels.get("app.kubernetes.io/part-of") == APP, where
        if obj["kind"] == "Namespace":
            continue
        for key in COMMON_LABELS:
            assert labels.get(key), f"{where} has no {key}"
        assert labels["app.kubernetes.io/component"] in ("api", "queue"), where
    for workload in workloads(rendered):
        for key in COMMON_LABELS:
            assert pod_labels(workload).get(key), (
                f"pods of {workload['metadata']['name']}: no {key}"
            )
    assert pod_labels(rendered.deployment)["app.kubernetes.io/component"] == "api"


@pytest.mark.parametrize("target", TARGETS)
def test_images(renders: Renders, target: str) -> None:
    rendered = renders(target)
    image = rendered.api["image"]
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    assert name.rsplit("/", 1)[-1] == APP, image
    if target in DEPLOYABLE:
        assert tag and tag != "latest", f"{target}: the overlay must set the image tag ({image})"
    if target in WITH_BUNDLED_REDIS:
        redis_image = container(rendered.queue, "redis")["image"]
        assert re.fullmatch(r"(.*/)?redis:7(\.[0-9]+)*", redis_image), redis_image


@pytest.mark.parametrize("target", DEPLOYABLE)
def test_overlay_puts_everything_in_one_namespace(renders: Renders, target: str) -> None:
    rendered = renders(target)
    namespaces = {
        o["metadata"].get("namespace") for o in rendered.objects if o["kind"] != "Namespace"
    }
    assert len(namespaces) == 1 and None not in namespaces, namespaces


# --------------------------------------------------------------------------------------------
# The queue engine


@pytest.mark.parametrize("target", WITH_BUNDLED_REDIS)
def test_redis_statefulset(renders: Renders, target: str) -> None:
    rendered = renders(target)
    queue = rendered.queue
    assert queue["spec"]["replicas"] == 1
    redis = container(queue, "redis")
    script = " ".join([*redis.get("command", []), *redis.get("args", [])])
    words = shlex.split(script.replace("\\\n", " "))
    assert "redis-server" in words
    assert words[words.index("--appendonly") + 1] == "yes"
    assert "--requirepass" not in words, "the password would be on the command line"
    # The password: read from the Secret's file, given to Redis as configuration on stdin.
    password_file = f"{SECRET_MOUNT}/queue_password"
    assert password_file in script and "requirepass $password" in script
    secret = volume_at(queue, redis, SECRET_MOUNT)["secret"]
    assert secret["secretName"] == shared_secret_name(rendered)
    assert [(i["key"], i["path"]) for i in secret["items"]] == [
        ("queue_password", "queue_password")
    ]
    assert not secret["defaultMode"] & 0o007
    # Data on its own ReadWriteOnce claim at /data.
    templates = {t["metadata"]["name"]: t for t in queue["spec"]["volumeClaimTemplates"]}
    data = mounts(redis)["/data"]["name"]
    assert templates[data]["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert words[words.index("--dir") + 1] == "/data"


@pytest.mark.parametrize("target", WITH_BUNDLED_REDIS)
def test_queue_url_names_the_redis_service(renders: Renders, target: str) -> None:
    rendered = renders(target)
    url = urlsplit(rendered.settings["QUEUE_URL"])
    assert url.scheme == "redis" and url.password is None, "no password in QUEUE_URL"
    service = rendered.one("Service", url.hostname or "")
    assert url.hostname == "regression-analyzer-queue" == rendered.queue["spec"]["serviceName"]
    assert url.port in [p["port"] for p in service["spec"]["ports"]] and url.port == 6379
    assert selects(service["spec"]["selector"], pod_labels(rendered.queue))
    assert not selects(service["spec"]["selector"], pod_labels(rendered.deployment))


@pytest.mark.parametrize("target", WITH_BUNDLED_REDIS)
def test_only_the_service_reaches_redis(renders: Renders, target: str) -> None:
    rendered = renders(target)
    queue_pods, api_pods = pod_labels(rendered.queue), pod_labels(rendered.deployment)
    policies = [
        p
        for p in rendered.all("NetworkPolicy")
        if selects(match_labels(p["spec"]["podSelector"]), queue_pods)
    ]
    assert policies, "no NetworkPolicy selects the Redis pods"
    for policy in policies:
        assert not selects(match_labels(policy["spec"]["podSelector"]), api_pods)
        assert "Ingress" in policy["spec"]["policyTypes"]
        for rule in policy["spec"].get("ingress", []):
            peers = rule.get("from")
            assert peers, f"{policy['metadata']['name']}: an ingress rule open to everyone"
            for peer in peers:
                assert set(peer) == {"podSelector"}, f"only pods of this namespace: {peer}"
                assert selects(match_labels(peer["podSelector"]), api_pods), peer
                assert not selects(match_labels(peer["podSelector"]), queue_pods), peer
            assert [p["port"] for p in rule["ports"]] in (["redis"], [6379])


@pytest.mark.parametrize("target", [t for t in TARGETS if t not in WITH_BUNDLED_REDIS])
def test_external_redis_component_drops_the_bundled_one(renders: Renders, target: str) -> None:
    rendered = renders(target)
    assert not rendered.all("StatefulSet")
    assert "regression-analyzer-queue" not in {o["metadata"]["name"] for o in rendered.objects}
    url = urlsplit(rendered.settings["QUEUE_URL"])
    assert url.scheme in ("redis", "rediss") and url.password is None
    assert url.hostname != "regression-analyzer-queue"
