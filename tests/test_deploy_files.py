"""The deployment files agree with the package and with each other (no Docker needed)."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath

import pytest

from liqmap.cli.main import build_parser
from liqmap.cli.run import serve
from storage.heartbeat import HEARTBEAT_SECONDS, STALE_AFTER_S

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    instructions = [
        (keyword.upper(), rest.strip())
        for keyword, _, rest in (line.partition(" ") for line in lines)
        if keyword and not keyword.startswith("#")
    ]
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def only(instructions: list[tuple[str, str]], keyword: str) -> str:
    found = [rest for key, rest in instructions if key == keyword]
    assert len(found) == 1, f"{keyword}: {found}"
    return found[0]


def unit() -> dict[str, str]:
    """``Section.Key`` -> value of deploy/liqmap.service (keys are not repeated there)."""
    values: dict[str, str] = {}
    section = ""
    for line in (ROOT / "deploy" / "liqmap.service").read_text().splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            assert f"{section}.{key}" not in values, key
            values[f"{section}.{key}"] = value
    return values


def test_the_image_runs_the_service_through_the_console_script() -> None:
    command = json.loads(only(dockerfile(), "CMD"))
    assert command[0] in PYPROJECT["project"]["scripts"]
    assert command[1:] == ["run"]
    assert build_parser().parse_args(command[1:]).command is serve
    assert only(dockerfile(), "STOPSIGNAL") == "SIGTERM"


def test_the_health_check_is_the_offline_doctor() -> None:
    options, _, command = only(dockerfile(), "HEALTHCHECK").partition(" CMD ")
    argv = shlex.split(command)
    assert argv[:3] == ["liqmap", "doctor", "--offline"]
    assert argv[3:] in ([], ["||", "exit", "1"])
    parsed = build_parser().parse_args(argv[1:3])
    assert parsed.command_name == "doctor" and parsed.offline
    assert "--timeout=" in options and "--interval=" in options


def test_the_image_runs_as_a_user_and_keeps_the_database_on_the_volume() -> None:
    final = dockerfile()
    user = only(final, "USER").split(":")[0]
    assert user not in ("root", "0")
    env = dict(
        pair.split("=", 1) for key, rest in final if key == "ENV" for pair in shlex.split(rest)
    )
    volume = PurePosixPath(only(final, "VOLUME"))
    assert volume in PurePosixPath(env["LIQMAP_DB"]).parents
    assert only(final, "FROM") == "python:3.11-slim"


def test_the_build_copies_what_the_package_needs() -> None:
    text = (ROOT / "Dockerfile").read_text()
    copied = {part for line in re.findall(r"^COPY (?!--from)(.*)$", text, re.M)
              for part in line.split()[:-1]}  # fmt: skip
    packages = {name.rstrip("*") for name in PYPROJECT["tool"]["setuptools"]["packages"]["find"]
                ["include"]}  # fmt: skip
    assert (
        packages | {"pyproject.toml", PYPROJECT["project"]["readme"], "requirements.lock"} <= copied
    )
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in text
    assert "pip install --no-cache-dir --no-deps ." in text  # the package, nothing resolved again
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert minimum is not None
    for base in re.findall(r"^FROM python:(\d+)\.(\d+)-slim", text, re.M):
        assert tuple(map(int, base)) >= tuple(map(int, minimum.groups()))


def test_the_build_context_leaves_out_secrets_and_test_data() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".venv", ".git", "data", "tests", "benchmarks", "**/*.db"} <= ignored
    assert not ignored & {
        "README.md",
        "pyproject.toml",
        "requirements.lock",
        "liqmap",
        "storage",
        "jobs",
        "bot",
    }


def test_the_systemd_unit_restarts_liqmap_run_and_stops_it_with_sigterm() -> None:
    values = unit()
    argv = shlex.split(values["Service.ExecStart"])
    assert PurePosixPath(argv[0]).name in PYPROJECT["project"]["scripts"]
    assert PurePosixPath(argv[0]).is_absolute()
    assert argv[1:] == ["run"]
    assert values["Service.Type"] == "simple"
    assert values["Service.Restart"] == "on-failure"
    assert values["Service.KillSignal"] == "SIGTERM"
    assert values["Service.User"] not in ("", "root")
    assert values["Service.ProtectSystem"] == "strict"
    assert values["Service.NoNewPrivileges"] == "yes"
    assert values["Service.WorkingDirectory"] in values["Service.ReadWritePaths"].split()


def test_compose_builds_the_image_with_env_file_and_a_volume_for_data() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    volume = only(dockerfile(), "VOLUME")
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is None:  # no YAML parser installed: the same facts from the text
        assert re.search(r"^services:\n  liqmap:\n", text, re.M)
        assert re.search(r"^    build: \.$", text, re.M)
        assert re.search(r"^    env_file: \.env$", text, re.M)
        assert re.search(r"^    restart: unless-stopped$", text, re.M)
        named = re.search(rf"^      - ([\w-]+):{re.escape(volume)}$", text, re.M)
        assert named is not None
        assert re.search(rf"^volumes:\n  {named.group(1)}:", text, re.M)
        assert re.search(rf"^      LIQMAP_DB: {re.escape(volume)}/", text, re.M)
        return
    service = yaml.safe_load(text)["services"]["liqmap"]
    assert service["build"] == "."
    assert service["env_file"] == ".env"
    assert service["restart"] == "unless-stopped"
    name, _, target = service["volumes"][0].partition(":")
    assert target == volume
    assert name in yaml.safe_load(text)["volumes"]
    assert service["environment"]["LIQMAP_DB"].startswith(f"{volume}/")


def test_compose_rotates_the_log() -> None:
    import yaml

    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["liqmap"]
    logging = service["logging"]
    assert logging["driver"] == "json-file"
    size = re.fullmatch(r"(\d+)([kmg])", logging["options"]["max-size"])
    assert size is not None, "a size docker reads: a number and k, m or g"
    files = logging["options"]["max-file"]
    assert isinstance(files, str) and int(files) >= 2, "a string: docker rejects a number"


def test_the_health_check_gives_the_heartbeat_time() -> None:
    """A stalled service fails the check only after several beats were missed, and the first
    check after a start comes after the first beat."""
    options = only(dockerfile(), "HEALTHCHECK").partition(" CMD ")[0]
    start = re.search(r"--start-period=(\d+)([sm])", options)
    assert start is not None
    seconds = int(start.group(1)) * (60 if start.group(2) == "m" else 1)
    assert seconds >= HEARTBEAT_SECONDS
    assert STALE_AFTER_S >= 3 * HEARTBEAT_SECONDS


def test_service_stop_timeouts_agree() -> None:
    compose = re.search(r"stop_grace_period: (\d+)s", (ROOT / "docker-compose.yml").read_text())
    assert compose is not None
    assert compose.group(1) == unit()["Service.TimeoutStopSec"]


@pytest.mark.parametrize("path", ["deploy/liqmap.service", "docker-compose.yml", "Dockerfile"])
def test_the_deployment_guide_names_each_file(path: str) -> None:
    assert f"`{path}`" in (ROOT / "docs" / "deployment.md").read_text()
