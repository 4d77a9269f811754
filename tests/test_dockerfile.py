"""The Docker image is built from the Makefile's own steps, so the two cannot drift apart."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.support import ROOT


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def make_commands(*targets: str, **variables: str) -> list[str]:
    """What ``make`` would run for ``targets``, the set-up step taken as done."""
    assignments = [f"{name}={value}" for name, value in variables.items()]
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed", *targets, *assignments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


def test_the_image_installs_and_indexes_with_the_makefiles_targets() -> None:
    runs = [argument for instruction, argument in dockerfile_instructions() if instruction == "RUN"]
    assert any(re.search(r"\bmake install\b", run) for run in runs)
    assert any(re.search(r"\bmake index\b", run) for run in runs)
    # Nothing installed or indexed beside the Makefile's targets.
    assert not any(re.search(r"\bpip install\b|\bciteqa index\b", run) for run in runs)


@pytest.mark.slow  # runs make
def test_the_image_serves_with_the_makefiles_serve_command_on_every_interface() -> None:
    (command,) = [json.loads(argument) for instruction, argument in dockerfile_instructions() if instruction == "CMD"]
    exposed = [argument for instruction, argument in dockerfile_instructions() if instruction == "EXPOSE"]
    # `make serve` indexes first, as the image did at build time; then it serves.
    assert make_commands("serve", HOST="0.0.0.0")[-1] == " ".join(command)
    assert exposed == [command[command.index("--port") + 1]]
