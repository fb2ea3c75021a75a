"""docker-compose.yml and the Dockerfile agree with the code they run."""

import ast
import re
import shlex
from pathlib import Path
from typing import Any

import click
import yaml

from service.cli import main

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def variables_read_by_config() -> set[str]:
    """Return the environment variables service/config.py reads, from its source."""
    tree = ast.parse((ROOT / "service" / "config.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "get" and node.args and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
    return names


def fiducia_commands(command: Any) -> list[list[str]]:
    """Return each `fiducia ...` invocation in a compose or Dockerfile command."""
    words = command if isinstance(command, list) else shlex.split(command)
    text = " ".join(words)
    invocations = []
    for part in re.split(r"&&|;|\|\|", text):
        tokens = shlex.split(part.replace("sh -c", ""))
        if tokens and tokens[0] == "fiducia":
            invocations.append(tokens[1:])
    return invocations


def resolve(arguments: list[str]) -> click.Command:
    """Return the click command an argument list names, failing if there is none."""
    command: click.Command = main
    for argument in arguments:
        if argument.startswith("-"):
            break
        assert isinstance(command, click.Group), f"{argument!r} follows a plain command"
        found = command.commands.get(argument)
        assert found is not None, f"fiducia has no command {argument!r}"
        command = found
    return command


def options_of(command: click.Command) -> set[str]:
    return {option for parameter in command.params for option in parameter.opts}


def test_the_stack_runs_postgres_web_and_one_scheduler_from_one_image() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "web", "scheduler"}
    assert services["web"]["build"] == services["scheduler"]["build"] == "."
    assert services["scheduler"]["deploy"]["replicas"] == 1
    assert "pgdata" in COMPOSE["volumes"]
    assert any(volume.startswith("pgdata:") for volume in services["postgres"]["volumes"])
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "/health" in " ".join(services["web"]["healthcheck"]["test"])


def test_every_fiducia_command_the_stack_runs_exists_with_its_options() -> None:
    commands = [
        service["command"] for service in COMPOSE["services"].values() if "command" in service
    ]
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert cmd is not None
    commands.append(ast.literal_eval(cmd.group(1)))
    invocations = [words for command in commands for words in fiducia_commands(command)]
    assert ["db", "upgrade"] in invocations
    assert ["scheduler"] in invocations
    for words in invocations:
        command = resolve(words)
        for word in words:
            if word.startswith("--"):
                assert word in options_of(command), f"fiducia {' '.join(words)}: no {word}"


def test_the_stack_sets_only_variables_the_code_reads() -> None:
    read = variables_read_by_config()
    assert {"DATABASE_URL", "FIDUCIA_SECRET_KEY"} <= read
    for name in ("web", "scheduler"):
        assert set(COMPOSE["services"][name]["environment"]) <= read, name
    dockerfile_env = set(re.findall(r"\b(FIDUCIA_[A-Z_]+|DATABASE_URL)=", DOCKERFILE))
    assert dockerfile_env <= read


def test_the_readme_documents_every_variable_the_code_reads() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in variables_read_by_config():
        assert f"`{name}`" in readme, name


def test_the_stack_has_no_secret_default_and_sends_cookies_over_https_only() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for name in ("FIDUCIA_SECRET_KEY", "POSTGRES_PASSWORD"):
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses, name
        assert all(use.startswith(":?") for use in uses), f"{name} has a default: {uses}"
    assert "change-me" not in text
    environment = COMPOSE["x-fiducia-environment"]
    assert environment["FIDUCIA_SECURE_COOKIES"] == "1"


def test_the_image_installs_every_library_the_pdf_statements_need() -> None:
    script = (ROOT / ".ci" / "install-pdf-libraries").read_text()
    listed = re.search(r"packages=\(([^)]*)\)", script)
    assert listed is not None
    needed = set(listed.group(1).split()) - {"poppler-utils"}  # poppler: screenshots only
    installed = re.search(r"apt-get install[^&]*", DOCKERFILE)
    assert installed is not None
    assert needed <= set(installed.group(0).replace("\\", " ").split())
    readme = (ROOT / "README.md").read_text()
    assert all(package in readme for package in needed)
