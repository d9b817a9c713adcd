"""The deployment files: compose.yaml, the Dockerfile, .dockerignore and .env.example.

No container engine is needed: the files are read and checked as text and data.

compose.yaml is validated against the Compose Specification's JSON schema, vendored as
``tests/data/compose_spec.json`` so that the tests need no network. It is
``schema/compose-spec.json`` of the Compose Specification (github.com/compose-spec/compose-spec),
copied unchanged from the copy that check-jsonschema 0.39.0 (PyPI, 2026-10-26) ships as its
``vendor.compose-spec`` built-in schema; SHA-256 below. It is licensed under the Apache
License 2.0 (Copyright 2020 The Compose Specification Authors), whose text is in
``tests/data/compose_spec.LICENSE``. To update it, take the same file from a newer
check-jsonschema wheel (``check_jsonschema/builtin_schemas/vendor/compose-spec.json``) and
change the version, the date and SCHEMA_SHA256.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from service.cli import BOUNDED_HTTP
from service.security.keys import ENV_NAMES

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "data" / "compose_spec.json"
SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"

# The modules that read the service's settings from the environment; any other module of
# the service that touches os.environ or getenv is read too (see service_settings).
SETTINGS_MODULES = (
    "service/config.py",
    "service/security/keys.py",
    "service/adapters/storage.py",
    "service/adapters/outbound.py",
)
BANSHI_NAME = re.compile(r"BANSHI_[A-Z0-9_]*[A-Z0-9]")
EXAMPLE_LINE = re.compile(r"#? ?([A-Z][A-Z0-9_]*)=(.*)")
INTERPOLATED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


# --- reading the files ------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


@pytest.fixture(scope="module")
def compose_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def schema_errors(validator: jsonschema.protocols.Validator, document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuations joined and
    comments dropped, split into stages at each FROM (what precedes the first is left out)."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    stages: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions:
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, arguments))
    return stages


def env_example() -> Iterator[tuple[int, str, str, bool]]:
    """Each setting of .env.example as (line index, name, value, commented out)."""
    for index, line in enumerate((ROOT / ".env.example").read_text(encoding="utf-8").splitlines()):
        if match := EXAMPLE_LINE.fullmatch(line.strip()):
            yield index, match[1], match[2], line.startswith("#")


def _is_environ(node: ast.expr) -> bool:
    """``os.environ``, ``environ`` or a mapping of the environment passed in as ``env``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id in ("environ", "env")


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def names_read_by(source: str) -> set[str]:
    """Environment variables a module reads: every string that is a whole ``BANSHI_*`` name
    (read through helpers such as ``_int`` or listed as in ``ENV_NAMES``), and the names
    given to ``environ.get``, ``environ[...]``, ``env.get`` and ``getenv``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and BANSHI_NAME.fullmatch(node.value):
            names.add(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            looked_up = (node.func.attr == "get" and _is_environ(node.func.value)) or node.func.attr == "getenv"
            if looked_up and (name := _string(node.args[0])):
                names.add(name)
        elif isinstance(node, ast.Subscript) and _is_environ(node.value) and (name := _string(node.slice)):
            names.add(name)
    return names


@pytest.fixture(scope="module")
def service_settings() -> set[str]:
    modules = {ROOT / name for name in SETTINGS_MODULES}
    modules |= {
        path
        for path in (ROOT / "service").rglob("*.py")
        if re.search(r"\bos\.environ\b|\bgetenv\b", path.read_text(encoding="utf-8"))
    }
    return set().union(*(names_read_by(path.read_text(encoding="utf-8")) for path in modules))


# --- compose.yaml ---------------------------------------------------------------------


def test_the_vendored_schema_is_the_one_named_above() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert (SCHEMA.parent / "compose_spec.LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")


def test_compose_yaml_is_valid_against_the_compose_specification(
    compose: dict[str, Any], compose_validator: jsonschema.protocols.Validator
) -> None:
    assert schema_errors(compose_validator, compose) == []


def test_the_schema_check_catches_mistakes(
    compose: dict[str, Any], compose_validator: jsonschema.protocols.Validator
) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["api"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["api"]["restart_policy"] = "always"
    broken["services"]["migrate"]["env_file"] = [{"path": ".env", "optional": True}]
    errors = schema_errors(compose_validator, broken)
    assert any(e.startswith("services/api/depends_on") for e in errors), errors
    assert any(e.startswith("services/api:") and "restart_policy" in e for e in errors), errors
    assert any(e.startswith("services/migrate/env_file") for e in errors), errors


def test_every_service_has_an_image_or_a_build(services: dict[str, dict[str, Any]]) -> None:
    assert {"db", "redis", "migrate", "api", "proxy"} <= set(services)
    assert [name for name, service in services.items() if not (service.get("image") or service.get("build"))] == []


def test_the_api_waits_for_a_healthy_database_and_redis_and_a_finished_migration(
    services: dict[str, dict[str, Any]],
) -> None:
    depends_on = services["api"]["depends_on"]
    assert depends_on["db"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["db"]["healthcheck"]["test"] and services["redis"]["healthcheck"]["test"]


def test_migrations_run_once_in_their_own_job_and_never_in_the_api(services: dict[str, dict[str, Any]]) -> None:
    migrate, api = services["migrate"], services["api"]
    assert migrate["restart"] == "no"
    command = " ".join(migrate["command"])
    assert "banshi db upgrade && banshi db grant" in command
    assert "banshi load-reference" in command
    assert migrate["image"] == api["image"]
    # The API runs the image's command, which serves without migrating.
    assert "command" not in api
    assert "entrypoint" not in api
    cmd = [arguments for keyword, arguments in dockerfile_stages()[-1] if keyword == "CMD"][-1]
    assert "uvicorn service.app:create_app --factory" in cmd
    assert "--workers" in cmd
    assert "--proxy-headers" in cmd
    assert f"--http {BOUNDED_HTTP}" in cmd  # the head's bound holds in the image as under banshi serve
    assert "banshi serve" not in cmd
    assert "db upgrade" not in cmd


def test_the_api_takes_its_configuration_from_the_environment(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    assert {"path": ".env", "required": False} in api["env_file"]
    environment = api["environment"]
    for name in ENV_NAMES:
        assert re.fullmatch(rf"\$\{{{name}:\?.+\}}", environment[name]), f"{name} must be required with ${{{name}:?…}}"
    assert environment["BANSHI_DOCS"] == "${BANSHI_DOCS:-0}"
    assert environment["BANSHI_REDIS_URL"].endswith("redis://:${REDIS_PASSWORD}@redis:6379/0}")
    assert environment["DATABASE_URL"].startswith("${DATABASE_URL:-postgresql://")
    assert f"attachments:{environment['BANSHI_ATTACHMENTS_DIR']}" in api["volumes"]
    assert api["restart"] == "unless-stopped"
    assert "/health" in " ".join(api["healthcheck"]["test"])
    # The owner's credentials reach the migrate job only; everything else is shared.
    assert environment["DATABASE_URL"].startswith("${DATABASE_URL:-postgresql://banshi_app:")
    for name in ("BANSHI_DATABASE_OWNER_URL", "POSTGRES_PASSWORD", "BANSHI_DB_SERVICE_PASSWORD"):
        assert environment[name] == "", f"{name} must be blanked for the API"
    migrate = services["migrate"]["environment"]
    assert migrate["BANSHI_DATABASE_OWNER_URL"].startswith("${BANSHI_DATABASE_OWNER_URL:-postgresql://banshi:")
    assert migrate["BANSHI_DB_SERVICE_PASSWORD"].startswith("${BANSHI_DB_SERVICE_PASSWORD:?")
    owner_only = {"BANSHI_DATABASE_OWNER_URL", "BANSHI_DB_SERVICE_PASSWORD"}
    assert {k: v for k, v in migrate.items() if k not in owner_only} == {
        k: v for k, v in environment.items() if k not in owner_only
    }
    assert services["worker"]["environment"] == environment


def interpolate(value: str, env: dict[str, str]) -> str:
    """``value`` as compose reads it with ``env`` as the environment: ``${NAME}``,
    ``${NAME:-default}`` (defaults may hold more ``${...}``) and ``${NAME:?message}``."""
    out, i = "", 0
    while (start := value.find("${", i)) != -1:
        depth, end = 0, start + 1
        for end in range(start + 1, len(value)):
            depth += {"{": 1, "}": -1}.get(value[end], 0)
            if depth == 0:
                break
        inner = value[start + 2 : end]
        parts = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(:-|:\?)?(.*)", inner, re.DOTALL)
        assert parts is not None, value
        name, operator, rest = parts.groups()
        if env.get(name):
            out += value[i:start] + env[name]
        elif operator == ":?":
            raise ValueError(f"{name}: {rest}")
        else:
            out += value[i:start] + (interpolate(rest, env) if operator == ":-" else "")
        i = end + 1
    return out + value[i:]


def test_interpolate_reads_as_compose_does() -> None:
    assert interpolate("${A:-x${B:-y}z}.2", {}) == "xyz.2"
    assert interpolate("${A:-x${B:-y}z}.2", {"B": "b"}) == "xbz.2"
    assert interpolate("${A:-x${B:-y}z}.2", {"A": "a"}) == "a.2"
    with pytest.raises(ValueError, match="set it"):
        interpolate("p${A:?set it}", {})


def test_only_the_proxy_publishes_a_port(services: dict[str, dict[str, Any]]) -> None:
    assert [name for name, service in services.items() if service.get("ports")] == ["proxy"]
    assert not any(service.get("network_mode") == "host" for service in services.values())
    (published,) = services["proxy"]["ports"]
    container_port = published.rsplit(":", 1)[1]
    listens = re.findall(r"^\s*listen\s+([^;]*);", (ROOT / "deploy/nginx/nginx.conf").read_text(), re.MULTILINE)
    assert f"{container_port} default_server" in listens
    assert interpolate(published, {}) == "8000:8080"  # where the API was before the proxy came


def test_the_proxy_runs_the_configuration_in_deploy(services: dict[str, dict[str, Any]]) -> None:
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    # The folder, read-only, so that nginx.conf finds banshi.conf beside it.
    assert proxy["volumes"] == ["./deploy/nginx:/etc/nginx/banshi:ro"]
    assert proxy["command"][:3] == ["nginx", "-c", "/etc/nginx/banshi/nginx.conf"]
    assert (ROOT / "deploy/nginx/nginx.conf").is_file() and (ROOT / "deploy/nginx/banshi.conf").is_file()
    assert "127.0.0.1:8081/health" in " ".join(proxy["healthcheck"]["test"])
    assert proxy["restart"] == "unless-stopped"


def test_two_api_replicas_sit_behind_the_proxy_on_a_network_of_their_own(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    api, proxy = services["api"], services["proxy"]
    assert api["deploy"]["replicas"] == 2
    assert set(api["networks"]) == {"default", "edge"}
    # The proxy reaches the replicas and nothing else: not the database, not Redis.
    assert set(proxy["networks"]) == {"edge"}
    assert not any(
        "edge" in service.get("networks", ()) for name, service in services.items() if name not in ("api", "proxy")
    )
    nginx = (ROOT / "deploy/nginx/nginx.conf").read_text(encoding="utf-8")
    assert "set $banshi_api api:8000;" in nginx  # the service's name: every replica's address


@pytest.mark.parametrize("env", [{}, {"BANSHI_EDGE_NETWORK": "10.77.3"}])
def test_the_replicas_believe_forwarded_addresses_from_the_proxy_only(
    compose: dict[str, Any], services: dict[str, dict[str, Any]], env: dict[str, str]
) -> None:
    import ipaddress

    trusted = services["api"]["environment"]["FORWARDED_ALLOW_IPS"]
    # Set by compose from its own network, never from .env, where an older line (127.0.0.1)
    # would make every client count as the proxy.
    assert "FORWARDED_ALLOW_IPS" not in INTERPOLATED.findall(trusted)
    proxy_address = interpolate(services["proxy"]["networks"]["edge"]["ipv4_address"], env)
    assert interpolate(trusted, env) == proxy_address
    (block,) = compose["networks"]["edge"]["ipam"]["config"]
    subnet = ipaddress.ip_network(interpolate(block["subnet"], env))
    replicas_range = ipaddress.ip_network(interpolate(block["ip_range"], env))
    address = ipaddress.ip_address(proxy_address)
    assert address in subnet and replicas_range.subnet_of(subnet)  # type: ignore[arg-type]
    assert address not in replicas_range, "a replica could be given the proxy's address"
    assert address != next(subnet.hosts()), "the first address is the network's gateway"


def test_redis_asks_for_a_password_and_the_service_sends_it(services: dict[str, dict[str, Any]]) -> None:
    redis = services["redis"]
    command = redis["command"]
    assert command[0] == "redis-server"
    password = command[command.index("--requirepass") + 1]
    assert re.fullmatch(r"\$\{REDIS_PASSWORD:\?.+\}", password), "compose must refuse to start without one"
    url = interpolate(services["api"]["environment"]["BANSHI_REDIS_URL"], {"REDIS_PASSWORD": "s3cret"})
    assert url == "redis://:s3cret@redis:6379/0"
    # redis-cli answers NOAUTH to a ping without the password, and exits 0 all the same.
    assert redis["environment"]["REDISCLI_AUTH"] == "${REDIS_PASSWORD}"
    assert "grep -q PONG" in " ".join(redis["healthcheck"]["test"])
    # An uncommented BANSHI_REDIS_URL in .env would replace the URL that carries the password.
    assert [commented for _, name, _, commented in env_example() if name == "BANSHI_REDIS_URL"] == [True]


# --- .env.example -----------------------------------------------------------------------


def test_the_settings_reader_finds_what_the_service_reads(service_settings: set[str]) -> None:
    expected = {"DATABASE_URL", "BANSHI_DB_POOL_SIZE", "BANSHI_REDIS_URL", "BANSHI_ATTACHMENTS", "BANSHI_S3_BUCKET"}
    assert expected | set(ENV_NAMES) <= service_settings
    assert not any(name.endswith("_") for name in service_settings)


def test_every_setting_in_env_example_is_one_that_is_read(service_settings: set[str]) -> None:
    deployment = set(INTERPOLATED.findall((ROOT / "compose.yaml").read_text(encoding="utf-8")))
    deployment |= set(INTERPOLATED.findall((ROOT / "Dockerfile").read_text(encoding="utf-8")))
    stray = sorted({name for _, name, _, _ in env_example()} - service_settings - deployment)
    assert stray == [], f"read neither by the service nor by compose.yaml or the Dockerfile: {stray}"


def test_every_banshi_setting_the_service_reads_is_in_env_example(service_settings: set[str]) -> None:
    listed = {name for _, name, _, _ in env_example()}
    missing = sorted(name for name in service_settings if name.startswith("BANSHI_") and name not in listed)
    assert missing == [], f"missing from .env.example: {missing}"
    assert "DATABASE_URL" in listed


def test_env_example_has_a_comment_for_each_setting_and_no_secrets() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    settings = list(env_example())
    assert len({name for _, name, _, _ in settings}) == len(settings), "a setting is listed twice"
    setting_lines = {index for index, _, _, _ in settings}
    uncommented = [
        name for index, name, _, _ in settings if index - 1 in setting_lines or not lines[index - 1].startswith("#")
    ]
    assert uncommented == [], f"no comment line above: {uncommented}"
    secrets = {
        *ENV_NAMES,
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "BANSHI_DB_SERVICE_PASSWORD",
        "BANSHI_S3_ACCESS_KEY_ID",
        "BANSHI_S3_SECRET_ACCESS_KEY",
        "BANSHI_METRICS_TOKEN",
    }
    filled = [name for _, name, value, _ in settings if name in secrets and value]
    assert filled == [], f"secrets must be empty in .env.example: {filled}"
    # Commented out, so that `banshi keys generate >> .env` does not define them twice.
    assert all(commented for _, name, _, commented in settings if name in secrets)


# --- Dockerfile and .dockerignore --------------------------------------------------------


def test_the_dockerfile_has_a_build_stage_and_a_final_stage() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    assert any(keyword == "COPY" and "ghcr.io/astral-sh/uv:" in arguments for keyword, arguments in build)
    # No uv, package manager or compiler in the image that runs.
    assert not any(re.search(r"\buv\b|apt-get|apk |gcc|build-essential", arguments) for _, arguments in final)


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = [arguments for keyword, arguments in dockerfile_stages()[-1] if keyword == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_the_image_has_no_dev_dependencies() -> None:
    runs = [arguments for stage in dockerfile_stages() for keyword, arguments in stage if keyword == "RUN"]
    syncs = [run for run in runs if "uv sync" in run or "uv pip" in run]
    assert syncs, "the dependencies are not installed with uv sync"
    for run in syncs:
        assert "--no-default-groups" in run, run
        assert not re.search(r"--(group|only-group|all-groups|dev|only-dev)\b", run), run


def test_the_image_holds_the_front_end_and_checks_its_health() -> None:
    final = dockerfile_stages()[-1]
    build_copies = " ".join(arguments for keyword, arguments in dockerfile_stages()[0] if keyword == "COPY")
    assert "web/dist" in build_copies
    assert any(keyword == "COPY" and arguments.startswith("--from=build") for keyword, arguments in final)
    healthchecks = [arguments for keyword, arguments in final if keyword == "HEALTHCHECK"]
    assert healthchecks and "http://127.0.0.1:8000/health" in healthchecks[-1]
    assert ("EXPOSE", "8000") in final


def test_dockerignore_leaves_out_local_state_but_not_what_the_image_copies() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {".venv", ".banshi", ".git", "node_modules", "test-output"} <= set(patterns)
    copied = [
        source
        for stage in dockerfile_stages()
        for keyword, arguments in stage
        if keyword == "COPY" and not arguments.startswith("--from")
        for source in arguments.split()[:-1]
    ]
    assert "web/dist" in copied
    ignored = [s for s in copied for p in patterns if not p.startswith("!") and fnmatch.fnmatch(s, p.lstrip("/"))]
    assert ignored == []


def _readme_setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Set-up: two commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    serve, test = _readme_setup_commands()
    assert serve == "uv run banshi serve"
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == test


def test_serving_installs_no_dev_group_and_testing_does() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    defaults = project["tool"]["uv"]["default-groups"]
    assert "embedded" in defaults
    assert "dev" not in defaults  # `uv run banshi serve` must not download the test stacks
    _, test = _readme_setup_commands()
    assert "--group dev" in test
    assert {"pytest", "playwright", "schemathesis"} <= {
        re.split(r"[<>=\[ ]", requirement, maxsplit=1)[0] for requirement in project["dependency-groups"]["dev"]
    }
