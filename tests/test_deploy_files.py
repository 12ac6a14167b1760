"""The Dockerfile and the Kubernetes manifest agree with the service they ship.

No Docker or cluster is needed (CI has neither, nor a network): the files are
parsed and checked against the code: the module the container runs exists and
accepts the arguments, the port and the health path are the app's, the model
directory is the one the container copies, and the manifest is safe to roll.
"""
import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from mlecourse.lender.modeling import artifact
from mlecourse.lender.service import __main__ as service_command, compose
from mlecourse.lender.serving import api

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
MANIFEST = ROOT / "deploy" / "kubernetes.yaml"
PORT = 8000


# --- a small Dockerfile parser ------------------------------------------------------

def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    instructions, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1].strip() + " "
            continue
        current += stripped
        keyword, _, rest = current.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    if current:
        raise ValueError(f"unterminated instruction: {current!r}")
    return instructions


def command_words(arguments: str) -> list[str]:
    """An exec-form (JSON array) or shell-form command as a list of words."""
    arguments = arguments.strip()
    if arguments.startswith("["):
        words = json.loads(arguments)
        assert all(isinstance(w, str) for w in words)
        return words
    return shlex.split(arguments)


def env_vars(instructions) -> dict:
    out = {}
    for keyword, rest in instructions:
        if keyword == "ENV":
            for word in shlex.split(rest):
                name, _, value = word.partition("=")
                out[name] = value
    return out


@pytest.fixture(scope="module")
def docker():
    return parse_dockerfile(DOCKERFILE.read_text())


def only(instructions, keyword):
    found = [rest for k, rest in instructions if k == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def test_parser_handles_continuations_and_comments():
    text = "# c\nFROM x\nRUN a \\\n    # inner\n    b\nCMD [\"p\", \"-m\"]\n"
    assert parse_dockerfile(text) == [("FROM", "x"), ("RUN", "a b"), ("CMD", '["p", "-m"]')]
    with pytest.raises(ValueError):
        parse_dockerfile("RUN a \\")


@pytest.fixture(scope="module")
def app_paths():
    app = compose.create_app(model=None, metadata={"version": "test"})
    return {*app.openapi()["paths"], "/metrics"}


@pytest.fixture(scope="module")
def cmd(docker):
    return command_words(only(docker, "CMD"))


# --- Dockerfile ---------------------------------------------------------------------

def test_base_image_is_python_311_slim(docker):
    assert docker[0] == ("FROM", "python:3.11-slim")


def test_dependencies_install_from_the_lock_with_hashes(docker):
    copies = [rest.split() for k, rest in docker if k == "COPY"]
    assert ["requirements.lock", "./"] in copies
    runs = " ".join(rest for k, rest in docker if k == "RUN")
    assert re.search(r"pip install .*--require-hashes.* -r requirements\.lock", runs)
    assert (ROOT / "requirements.lock").is_file()
    for needed in ("fastapi", "uvicorn", "skops", "scikit-learn", "pandas", "numpy", "pydantic"):
        assert re.search(rf"^{needed}==", (ROOT / "requirements.lock").read_text(), re.M), needed
    # the lock is copied and installed before the code, so code changes reuse the layer
    order = [k + " " + rest for k, rest in docker]
    install = next(i for i, line in enumerate(order) if "requirements.lock" in line and line.startswith("RUN"))
    code = next(i for i, line in enumerate(order) if line.startswith("COPY src/"))
    assert install < code


def test_the_command_runs_the_service_module_with_valid_arguments(cmd, docker):
    assert cmd[:3] == ["python", "-m", "mlecourse.lender.service"]
    assert importlib.util.find_spec("mlecourse.lender.service.compose") is not None
    args = service_command.build_parser().parse_args(cmd[3:])
    assert args.port == PORT and args.host == "0.0.0.0"
    # the package is importable in the image: on PYTHONPATH, and copied there
    env = env_vars(docker)
    workdir = only(docker, "WORKDIR")
    copies = dict(rest.split() for k, rest in docker if k == "COPY")
    assert copies["src/"] == "./src/" and env["PYTHONPATH"] == f"{workdir}/src"
    assert (ROOT / "src" / "mlecourse" / "lender" / "service" / "__main__.py").is_file()


def test_the_model_directory_is_the_one_the_artifact_cli_writes(cmd, docker):
    model_dir = service_command.build_parser().parse_args(cmd[3:]).model_dir
    workdir = only(docker, "WORKDIR")
    copies = dict(rest.split() for k, rest in docker if k == "COPY")
    source = next(src for src, dst in copies.items() if f"{workdir}/{dst.strip('./').rstrip('/')}" == str(model_dir))
    assert source.rstrip("/") == artifact.build_parser().get_default("out")
    ignore = (ROOT / ".dockerignore").read_text().split()
    for needed in ("!requirements.lock", "!src/", "!models/"):
        assert needed in ignore


def test_port_health_check_and_user(docker, app_paths):
    assert only(docker, "EXPOSE") == str(PORT)
    health = only(docker, "HEALTHCHECK")
    assert f"http://127.0.0.1:{PORT}/health" in health and "/health" in app_paths
    assert "--timeout=" in health and "--interval=" in health
    user = only(docker, "USER")
    assert user not in ("root", "0")
    assert [k for k, _ in docker].index("USER") < [k for k, _ in docker].index("CMD")
    assert env_vars(docker)["OMP_NUM_THREADS"] == "1"


# --- Kubernetes ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def manifest():
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"Deployment", "Service"}
    return kinds


@pytest.fixture(scope="module")
def container(manifest):
    containers = manifest["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def resolve_port(container, port):
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container["ports"] if p.get("name") == port)


def test_container_port_is_the_service_port(container):
    assert [p["containerPort"] for p in container["ports"]] == [PORT]


@pytest.mark.parametrize("probe,path", [("readinessProbe", "/ready"), ("livenessProbe", "/health"),
                                        ("startupProbe", "/health")])
def test_probes_hit_the_health_routes_on_the_app_port(container, app_paths, probe, path):
    """Liveness asks "alive?", readiness "may I send more?": different routes, as the chapter says."""
    check = container[probe]["httpGet"]
    assert check["path"] in app_paths and check["path"] == path
    assert resolve_port(container, check["port"]) == PORT
    # the probe's Host is one the service answers (the Host check would refuse the pod's IP)
    host = {h["name"]: h["value"] for h in check.get("httpHeaders", [])}.get("Host")
    assert host in api.auth.LOOPBACK_HOSTS


def test_the_pod_reads_its_api_key_from_a_secret_file(manifest, container):
    args = service_command.build_parser().parse_args(container["args"][3:])
    assert args.host == "0.0.0.0" and args.port == PORT and args.rate_limit > 0
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in manifest["Deployment"]["spec"]["template"]["spec"]["volumes"]}
    (name,) = [n for n, v in volumes.items() if "secret" in v]
    assert str(args.api_key_file).startswith(mounts[name]["mountPath"] + "/")
    assert mounts[name]["readOnly"] is True
    assert not any("API_KEY" in e["name"] and "value" in e for e in container.get("env", []))


def test_the_container_cannot_start_open_on_all_interfaces(cmd, monkeypatch, caplog, tmp_path):
    """The image's command listens on 0.0.0.0: without a key, it refuses to start."""
    monkeypatch.delenv(api.auth.API_KEY_ENV, raising=False)
    assert service_command.main(cmd[3:]) == 2
    assert "without an API key" in caplog.text


def test_rolling_update_never_drops_below_capacity(manifest):
    spec = manifest["Deployment"]["spec"]
    strategy = spec["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] >= 1
    assert spec["replicas"] >= 2


def quantity(value: str) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    match = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi)?", str(value))
    assert match, value
    return float(match.group(1)) * units.get(match.group(2), 1)


def test_resources_have_requests_within_limits(container):
    resources = container["resources"]
    for what in ("cpu", "memory"):
        assert quantity(resources["requests"][what]) <= quantity(resources["limits"][what])
    # the service holds one model and a batch of 1000 rows: 256 MiB is far too little
    assert quantity(resources["requests"]["memory"]) >= 256 * 2**20


def test_pods_run_as_non_root_with_a_pinned_image(manifest, container, docker):
    pod = manifest["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == only(docker, "USER")
    image = container["image"]
    assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_service_selects_the_pods_and_targets_the_app_port(manifest, container):
    deployment, service = manifest["Deployment"], manifest["Service"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert resolve_port(container, port["targetPort"]) == PORT


def test_the_image_builds_llama_cpp_with_the_makefiles_options(docker):
    """One set of build options for llama.cpp: the image's must be the Makefile's."""
    options = re.search(r"^export CMAKE_ARGS \?= (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    runs = " ".join(rest for k, rest in docker if k == "RUN")
    assert f'CMAKE_ARGS="{options}"' in runs
    assert "apt-get purge -y build-essential cmake" in runs  # the compiler leaves with the layer
