"""The deployment files under deploy/: what can be checked without Docker or Kubernetes.

Neither a Docker engine nor a cluster runs here, so the files are validated instead of run:
the Compose file against the Compose Specification (check-jsonschema), every YAML file with
yamllint, the Dockerfile with hadolint and Docker's own parser, the Compose instance config by
loading it as a real Dagster instance on PostgreSQL, and the Helm values against what the chart
and the image need. Nothing here needs the network.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dockerfile
import pytest
import yaml
from dagster import AssetsDefinition, DagsterInstance, Definitions, QueuedRunCoordinator
from dagster_docker import DockerRunLauncher
from docker.utils.build import exclude_paths

from festival_pipeline.definitions import defs
from festival_pipeline.pools import SITE_POOLS
from festival_pipeline.runtime import instance_home
from festival_pipeline_tests.conftest import create_database

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEPLOY = PROJECT_ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yaml"
INSTANCE = DEPLOY / "docker" / "dagster.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
HELM_VALUES = DEPLOY / "helm" / "values.yaml"
PROJECT_SERVICES = ("code-server", "webserver", "daemon")
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|_KEY$|DATABASE_URL")
BASE_IMAGE = "python:3.11-slim-bookworm"


def tool(name: str) -> str:
    """A validator installed with the test extra, next to this interpreter."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


@pytest.fixture(scope="module")
def instance_config() -> dict[str, Any]:
    return load_yaml(INSTANCE)


@pytest.fixture(scope="module")
def helm() -> dict[str, Any]:
    return load_yaml(HELM_VALUES)


@pytest.fixture(scope="module")
def dockerfile_commands() -> tuple[dockerfile.Command, ...]:
    return dockerfile.parse_file(str(DOCKERFILE))


def final_stage(commands: tuple[dockerfile.Command, ...]) -> list[dockerfile.Command]:
    last_from = max(i for i, command in enumerate(commands) if command.cmd == "FROM")
    return list(commands[last_from:])


def image_env(commands: tuple[dockerfile.Command, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for command in final_stage(commands):
        if command.cmd == "ENV":
            values = command.value
            env.update(zip(values[::2], values[1::2], strict=True))
    return env


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def env_references(config: Any) -> set[str]:
    """Every `{env: NAME}` in a Dagster config."""
    if isinstance(config, dict):
        if set(config) == {"env"}:
            return {config["env"]}
        return set().union(*(env_references(value) for value in config.values()))
    if isinstance(config, list):
        return set().union(*(env_references(value) for value in config))
    return set()


# ---------------------------------------------------------------- validators


def test_compose_file_follows_the_compose_specification() -> None:
    """The schema `docker compose` itself validates against, as vendored by check-jsonschema."""
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deployment_yaml_passes_yamllint() -> None:
    """Syntax, indentation and no duplicated key (Compose and Helm silently keep the last one)."""
    result = subprocess.run(
        [tool("yamllint"), "--strict", "-f", "parsable", "-c", str(DEPLOY / ".yamllint.yaml"), str(DEPLOY)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", "--format", "json", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        cwd=DEPLOY,
    )
    assert result.returncode == 0 and json.loads(result.stdout or "[]") == [], result.stdout + result.stderr


# ---------------------------------------------------------------- the image


def test_image_builds_on_a_pinned_python_3_11_bookworm(dockerfile_commands) -> None:
    """Every stage on the same tagged base: the virtualenv built in one stage runs in the other."""
    bases = [command.value[0] for command in dockerfile_commands if command.cmd == "FROM"]
    assert bases and all(base.split("@")[0] == BASE_IMAGE for base in bases), bases


def test_image_has_debians_chromium_for_the_browser_fetcher(dockerfile_commands) -> None:
    runs = " ".join(command.value[0] for command in final_stage(dockerfile_commands) if command.cmd == "RUN")
    assert re.search(r"apt-get install\b[^&;]*\bchromium\b", runs), runs
    assert image_env(dockerfile_commands)["FESTIVAL_BROWSER_EXECUTABLE"] == "/usr/bin/chromium"


def test_image_runs_as_an_unprivileged_numeric_user(dockerfile_commands) -> None:
    """A numeric id, so that Kubernetes' runAsNonRoot can verify it (the Helm values ask for it)."""
    users = [command.value[0] for command in final_stage(dockerfile_commands) if command.cmd == "USER"]
    assert users, "the final stage sets no USER: containers would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, users[-1]


def test_image_installs_only_the_versions_setup_py_pins(dockerfile_commands) -> None:
    installs = [
        command.value[0]
        for command in dockerfile_commands
        if command.cmd == "RUN" and "pip install" in command.value[0]
    ]
    assert installs, "the Dockerfile installs nothing with pip"
    for install in installs:
        targets = [word for word in install.split("pip install", 1)[1].split() if not word.startswith("-")]
        assert targets and all(target.strip("'\"") in {".", ".[docker]"} for target in targets), install


def test_image_takes_no_secret_and_copies_only_the_package(dockerfile_commands) -> None:
    for command in dockerfile_commands:
        if command.cmd in {"COPY", "ADD"}:
            if any(flag.startswith("--from=") for flag in command.flags):
                continue
            assert set(command.value[:-1]) <= {"setup.py", "festival_pipeline"}, command.original
        if command.cmd in {"ENV", "ARG"}:
            names = command.value[::2] if command.cmd == "ENV" else [v.split("=")[0] for v in command.value]
            assert not [name for name in names if SECRET_NAME.search(name)], command.original


def test_image_leaves_the_command_to_the_launchers(dockerfile_commands) -> None:
    """Run launchers and the chart set the container command; an ENTRYPOINT would prefix it."""
    stage = final_stage(dockerfile_commands)
    assert not [command for command in stage if command.cmd == "ENTRYPOINT"]
    cmd = [command for command in stage if command.cmd == "CMD"][-1]
    assert cmd.json and list(cmd.value[:3]) == ["festival-pipeline", "serve", "code-server"]
    assert option(list(cmd.value), "--host") == "0.0.0.0" and option(list(cmd.value), "--port") == "4000"


def test_build_context_keeps_secrets_and_local_state_out(tmp_path: Path) -> None:
    """The repository's .dockerignore, applied with docker-py's own .dockerignore matcher."""
    for name in (
        "setup.py",
        "festival_pipeline/definitions.py",
        "festival_pipeline/database/migrations/env.py",
        "festival_pipeline/__pycache__/definitions.cpython-311.pyc",
        ".env",
        "deploy/.env",
        ".git/config",
        ".venv/bin/python",
        ".festival_pipeline/postgres/PG_VERSION",
        "artifacts/run.log",
        "README.md",
    ):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    patterns = [
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    included = {Path(path).as_posix() for path in exclude_paths(str(tmp_path), patterns) if (tmp_path / path).is_file()}
    assert included == {"setup.py", "festival_pipeline/definitions.py", "festival_pipeline/database/migrations/env.py"}


# ---------------------------------------------------------------- Docker Compose


def test_compose_services_share_the_project_image(compose) -> None:
    images = {compose["services"][name]["image"] for name in PROJECT_SERVICES}
    builds = {json.dumps(compose["services"][name]["build"], sort_keys=True) for name in PROJECT_SERVICES}
    assert len(images) == 1 and len(builds) == 1
    build = compose["services"]["code-server"]["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_compose_runs_the_three_services_against_the_code_server(compose) -> None:
    services = compose["services"]
    code_server = services["code-server"]["command"]
    assert code_server[:3] == ["festival-pipeline", "serve", "code-server"]
    address = f"code-server:{option(code_server, '--port')}"
    assert services["webserver"]["command"][:3] == ["festival-pipeline", "serve", "webserver"]
    assert services["daemon"]["command"][:3] == ["festival-pipeline", "serve", "daemon"]
    assert option(services["webserver"]["command"], "--code-server") == address
    assert option(services["daemon"]["command"], "--code-server") == address
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"]["code-server"]["condition"] == "service_healthy"


def test_compose_publishes_the_ui_on_this_host_only(compose) -> None:
    published = {name: service.get("ports", []) for name, service in compose["services"].items()}
    assert published["webserver"] == ["127.0.0.1:3000:3000"]
    assert option(compose["services"]["webserver"]["command"], "--port") == "3000"
    assert all(not ports for name, ports in published.items() if name != "webserver"), published


def test_compose_postgres_is_pinned_healthy_and_persistent(compose) -> None:
    postgres = compose["services"]["postgres"]
    repository, _, tag = postgres["image"].partition(":")
    assert repository == "postgres" and re.match(r"\d+\.\d+", tag), postgres["image"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(volume.split(":")[0] in compose["volumes"] for volume in postgres["volumes"])
    for name in PROJECT_SERVICES:
        assert compose["services"][name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_mounts_the_instance_config_into_dagster_home(compose, dockerfile_commands) -> None:
    dagster_home = image_env(dockerfile_commands)["DAGSTER_HOME"]
    for name in PROJECT_SERVICES:
        sources = {
            (COMPOSE.parent / volume.split(":")[0]).resolve(): volume.split(":")[1]
            for volume in compose["services"][name]["volumes"]
            if volume.startswith("./")
        }
        assert sources.get(INSTANCE) == f"{dagster_home}/dagster.yaml", (name, sources)


def test_compose_run_containers_get_every_variable_they_need(compose, instance_config) -> None:
    """The launcher copies env_vars from the daemon to each run; a name the daemon lacks fails the launch."""
    forwarded = set(instance_config["run_launcher"]["config"]["env_vars"])
    daemon_env = set(compose["services"]["daemon"]["environment"])
    assert forwarded <= daemon_env, forwarded - daemon_env
    # a run container loads the same instance config, so it needs every variable the config reads
    assert env_references(instance_config) <= forwarded, env_references(instance_config) - forwarded
    # and every project setting the services get: a run must load the definitions the code server has
    # (IMDB_SOURCE decides the pools) and fetch as it was configured
    project_env = set(compose["x-festival-environment"])
    assert project_env == forwarded, project_env ^ forwarded


def test_compose_runs_join_the_network_and_storage_of_the_services(compose, instance_config) -> None:
    launcher = instance_config["run_launcher"]["config"]
    network_names = {network.get("name", key) for key, network in compose["networks"].items()}
    assert launcher["network"] in network_names
    webserver_mounts = dict(volume.split(":")[:2] for volume in compose["services"]["webserver"]["volumes"])
    volume_names = {volume.get("name", key): key for key, volume in compose["volumes"].items() if volume}
    for mount in launcher["container_kwargs"]["volumes"]:
        name, path = mount.split(":")[:2]
        assert name in volume_names, (name, volume_names)
        assert webserver_mounts[volume_names[name]] == path  # the UI reads the compute logs runs write


def test_compose_daemon_and_webserver_reach_the_docker_engine(compose) -> None:
    for name in ("daemon", "webserver"):
        service = compose["services"][name]
        assert any(volume.endswith(":/var/run/docker.sock") for volume in service["volumes"]), name
        assert service["group_add"], f"{name} cannot use the Docker socket as the image's unprivileged user"


def test_compose_takes_every_secret_from_the_environment(compose) -> None:
    for name, service in compose["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(variable):
                assert "${" in str(value), f"{name}: {variable} holds a literal value"
    urls = [
        compose["services"]["daemon"]["environment"][name]
        for name in ("FESTIVAL_DATABASE_URL", "FESTIVAL_DAGSTER_DATABASE_URL")
    ]
    assert all(urlsplit(url).password == "${POSTGRES_PASSWORD}" for url in urls), urls


def test_env_example_lists_every_required_setting_without_a_value() -> None:
    """Copying .env.example names every variable compose cannot do without, and fills in no secret."""
    # ${NAME} or ${NAME:?message}, not ${NAME:-default}, nor $${NAME} (escaped for the container's shell)
    required = set(re.findall(r"(?<!\$)\$\{(\w+)(?::\?[^}]*)?\}", COMPOSE.read_text(encoding="utf-8")))
    example: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if re.match(r"\w+=", line):
            key, _, value = line.partition("=")
            example[key] = value
    assert required <= set(example), required - set(example)
    assert all(value == "" for key, value in example.items() if SECRET_NAME.search(key)), example


def test_filled_in_env_file_is_not_tracked() -> None:
    if not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(["git", "check-ignore", "-q", "deploy/.env"], cwd=PROJECT_ROOT, check=False)
    assert result.returncode == 0, "deploy/.env is not git-ignored"


# ---------------------------------------------------------------- the Compose instance, loaded for real


@pytest.fixture
def docker_instance(pg_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """deploy/docker/dagster.yaml as the services load it, on a fresh database of the test server."""
    url = urlsplit(create_database(pg_server, prefix="dagster"))
    # the test server listens on its socket only: no host name, and libpq's PGHOST names the socket
    monkeypatch.setenv("PGHOST", str(pg_server.socket_dir))
    monkeypatch.setenv("DAGSTER_POSTGRES_HOST", url.hostname or "")
    monkeypatch.setenv("DAGSTER_POSTGRES_PORT", str(url.port or 5432))
    monkeypatch.setenv("DAGSTER_POSTGRES_USER", url.username or "")
    monkeypatch.setenv("DAGSTER_POSTGRES_PASSWORD", url.password or "")
    monkeypatch.setenv("DAGSTER_POSTGRES_DB", url.path.lstrip("/"))
    monkeypatch.setenv("FESTIVAL_IMAGE", "festival-pipeline:test")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(INSTANCE, home / "dagster.yaml")
    with DagsterInstance.from_config(str(home)) as instance:
        yield instance


def test_compose_instance_stores_runs_in_postgres(docker_instance) -> None:
    assert docker_instance.get_runs() == []  # the psycopg2 URL connects and the schema is created


def test_compose_instance_launches_runs_in_docker_containers(docker_instance, compose) -> None:
    launcher = docker_instance.run_launcher
    assert isinstance(launcher, DockerRunLauncher)
    assert launcher.networks == [compose["networks"]["festival"]["name"]]
    assert launcher.image == "festival-pipeline:test"  # the fallback image: FESTIVAL_IMAGE
    # the image the code server reports for its runs is the one the services run
    code_server = compose["services"]["code-server"]
    assert code_server["environment"]["DAGSTER_CURRENT_IMAGE"] == code_server["image"]


def test_a_compose_deployment_queues_runs_and_shares_sites_as_a_local_one(docker_instance, tmp_path) -> None:
    """Moving to Compose changes neither how many runs run at once nor how many steps fetch a site at
    once: deploy/docker/dagster.yaml queues runs and limits the site pools as the repo's dagster.yaml
    (which `festival-pipeline dev` uses), and every pool a fetching asset uses gets that limit."""
    local_home = tmp_path / "local"
    local_home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", local_home / "dagster.yaml")
    with DagsterInstance.from_config(str(local_home)) as local:
        expected = local.get_concurrency_config()
    deployed = docker_instance.get_concurrency_config()
    assert isinstance(docker_instance.run_coordinator, QueuedRunCoordinator)
    assert deployed.run_queue_config.max_concurrent_runs == expected.run_queue_config.max_concurrent_runs > 1
    assert deployed.pool_config.default_pool_limit == expected.pool_config.default_pool_limit
    assert instance_home.pool_limit(local_home) == expected.pool_config.default_pool_limit > 1
    pools = {asset.op.pool for asset in defs.assets if isinstance(asset, AssetsDefinition)} - {None}
    assert len(pools) == 2 and pools <= set(SITE_POOLS)  # prepare() creates every one of them
    storage = docker_instance.event_log_storage
    for pool in SITE_POOLS:
        storage.initialize_concurrency_limit_to_default(pool)  # what a run's first step in the pool does
        assert storage.get_concurrency_info(pool).slot_count == expected.pool_config.default_pool_limit


def test_compose_instance_detects_dead_run_containers(docker_instance) -> None:
    """Run monitoring polls the launcher's worker health check: a dead container fails its run."""
    assert docker_instance.run_monitoring_enabled
    assert docker_instance.run_launcher.supports_check_run_worker_health
    settings = docker_instance.run_monitoring_settings
    assert settings["free_slots_after_run_end_seconds"] > 0  # a failed run's pool slots come back


# ---------------------------------------------------------------- Helm values (chart dagster 1.13.27)


def user_deployment(helm: dict[str, Any]) -> dict[str, Any]:
    (deployment,) = helm["dagster-user-deployments"]["deployments"]
    return deployment


def test_helm_code_server_loads_the_project_definitions(helm) -> None:
    """The chart starts `dagster code-server start -h 0.0.0.0 -p PORT <codeServerArgs>`."""
    deployment = user_deployment(helm)
    args = deployment["codeServerArgs"]
    module = importlib.import_module(option(args, "-m"))
    assert isinstance(getattr(module, option(args, "-a")), Definitions)
    assert helm["dagster-user-deployments"]["enabled"] and helm["dagster-user-deployments"]["enableSubchart"]
    assert "dagster/" not in deployment["image"]["repository"] and deployment["image"]["tag"]


def test_helm_runs_are_kubernetes_jobs_with_the_code_servers_settings(helm) -> None:
    deployment = user_deployment(helm)
    assert helm["runLauncher"]["type"] == "K8sRunLauncher"
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True  # run pods get env and envSecrets
    names = {variable["name"] for variable in deployment["env"]}
    assert {"OSCARS_BASE_URL", "IMDB_BASE_URL", "FESTIVAL_FETCHER"} <= names
    assert [secret["name"] for secret in deployment["envSecrets"]] == ["festival-pipeline-env"]


def test_helm_pods_run_as_the_images_user(helm, dockerfile_commands) -> None:
    uid = int([c.value[0] for c in final_stage(dockerfile_commands) if c.cmd == "USER"][-1].split(":")[0])
    deployment = user_deployment(helm)
    run_pods = helm["runLauncher"]["config"]["k8sRunLauncher"]["securityContext"]
    assert deployment["podSecurityContext"]["runAsNonRoot"] and deployment["podSecurityContext"]["runAsUser"] == uid
    assert run_pods["runAsNonRoot"] and run_pods["runAsUser"] == uid


def test_helm_values_hold_no_secret(helm) -> None:
    assert helm["postgresql"]["enabled"] is False
    assert "postgresqlPassword" not in helm["postgresql"]
    assert helm["generatePostgresqlPasswordSecret"] is False and helm["global"]["postgresqlSecretName"]

    def literal_secrets(node: Any, path: str = "") -> list[str]:
        if isinstance(node, dict):
            if "name" in node and "value" in node and SECRET_NAME.search(str(node["name"])):
                return [f"{path}.{node['name']}"]
            return [hit for key, value in node.items() for hit in literal_secrets(value, f"{path}.{key}")]
        if isinstance(node, list):
            return [hit for i, value in enumerate(node) for hit in literal_secrets(value, f"{path}[{i}]")]
        return []

    assert literal_secrets(helm) == []


def test_helm_queue_pools_and_monitoring_match_the_compose_instance(helm, instance_config) -> None:
    """Both deployments queue, pool and watch runs alike."""
    concurrency = helm["concurrency"]
    assert concurrency["enabled"] is True
    assert concurrency["runs"]["maxConcurrentRuns"] == instance_config["concurrency"]["runs"]["max_concurrent_runs"]
    assert concurrency["pools"]["defaultLimit"] == instance_config["concurrency"]["pools"]["default_limit"]
    coordinator = helm["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] and coordinator["type"] == "QueuedRunCoordinator"
    # the chart fails when both this and concurrency.runs.maxConcurrentRuns are set
    assert coordinator["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] is None
    monitoring = helm["dagsterDaemon"]["runMonitoring"]
    docker_monitoring = instance_config["run_monitoring"]
    assert monitoring["enabled"] is True
    assert monitoring["freeSlotsAfterRunEndSeconds"] == docker_monitoring["free_slots_after_run_end_seconds"]
    assert monitoring["maxResumeRunAttempts"] == docker_monitoring["max_resume_run_attempts"]


def test_helm_postgres_settings_open_the_instance_with_the_images_libraries(
    helm, pg_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The instance config the chart renders (its _postgresql.tpl and configmap-instance.yaml: three
    dagster-postgres storages, the password from DAGSTER_PG_PASSWORD), with the values' scheme and
    params, opens with this project's SQLAlchemy and psycopg2 as the run pods will; the host and
    database are the test server's."""
    postgresql = helm["postgresql"]
    url = urlsplit(create_database(pg_server, prefix="dagster"))
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", url.password or "")
    monkeypatch.setenv("PGHOST", str(pg_server.socket_dir))  # the test server's socket (no host name)
    postgres_db = {
        "username": url.username,
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": url.hostname or "",
        "db_name": url.path.lstrip("/"),
        "port": url.port or 5432,
        "params": postgresql["postgresqlParams"],
        "scheme": postgresql["postgresqlScheme"],
    }
    storages = {
        "run_storage": ("dagster_postgres.run_storage", "PostgresRunStorage"),
        "event_log_storage": ("dagster_postgres.event_log", "PostgresEventLogStorage"),
        "schedule_storage": ("dagster_postgres.schedule_storage", "PostgresScheduleStorage"),
    }
    config = {
        section: {"module": module, "class": cls, "config": {"postgres_db": postgres_db}}
        for section, (module, cls) in storages.items()
    }
    home = tmp_path / "chart_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_runs() == []
