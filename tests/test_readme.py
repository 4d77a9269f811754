"""The README's shell examples pasted into bash, as a reader would, against a real server on loopback:
each must give what the README shows under it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.local_server import ServerFailed, started_server
from tests.support import CORPUS, ROOT

README = ROOT / "README.md"
README_HOST = "http://127.0.0.1:8000"
ADMIN_KEY = "readme-admin-key"
# Examples that start a server or set up the machine are not run here: the fixture starts the server.
RUN = re.compile(r"^(curl|kill|citeqa (ask|index))\b")
MORE = "<<more>>"


@dataclass
class Example:
    line: int
    language: str  # console: commands after "$ " with their output; sh: commands only
    commands: list[str]
    output: str = ""  # console: what the README shows after the command
    shown: tuple[str, str] | None = None  # sh: the block that follows (language, text), if any


def examples() -> list[Example]:
    readme = README.read_text(encoding="utf-8")
    # (line, language, text, section): a block of output belongs to the example before it in its section.
    blocks = [
        (
            readme[: match.start()].count("\n") + 1,
            match[1],
            match[2],
            len(re.findall(r"^#+ ", readme[: match.start()], re.M)),
        )
        for match in re.finditer(r"^```(\w*)\n(.*?)^```$", readme, re.M | re.S)
    ]
    found: list[Example] = []
    for i, (line, language, text, section) in enumerate(blocks):
        if language == "console":
            for command in re.split(r"^\$ ", text, flags=re.M)[1:]:
                head, output = _continued(command)
                found.append(Example(line, language, [head], output))
        elif language == "sh":
            commands = _commands(text)
            if commands and all(RUN.match(command) for command in commands):
                after = blocks[i + 1] if i + 1 < len(blocks) else None
                follows = after if after and after[1] in ("json", "text") and after[3] == section else None
                found.append(Example(line, language, commands, shown=(follows[1], follows[2]) if follows else None))
    return found


def _continued(command: str) -> tuple[str, str]:
    """A console command (its lines ending in a backslash continue it) and the output shown after it."""
    lines = command.split("\n")
    end = next(i for i, line in enumerate(lines) if not line.endswith("\\"))
    return "\n".join(lines[: end + 1]), "\n".join(lines[end + 1 :])


def _commands(text: str) -> list[str]:
    """The commands of an sh block, continuation lines joined, comments and blank lines left out."""
    joined = re.sub(r"\\\n", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


@dataclass
class Shell:
    url: str
    cwd: Path
    env: dict[str, str]

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        command = command.replace(README_HOST, self.url)
        return subprocess.run(
            ["bash", "-c", command], cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=300
        )


@pytest.fixture(scope="module")
def shell(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shell]:
    """bash in a fresh folder with `citeqa` on the PATH and a server as the README's examples expect it:
    its index the seed corpus's, an admin key, and its PID file at `.citeqa/serve.pid`."""
    cwd = tmp_path_factory.mktemp("reader")
    (cwd / ".citeqa").mkdir()
    index_dir = cwd / ".citeqa" / "index"
    os.symlink(seed_index.resolve(), index_dir)  # built from corpus/ as `make index` would
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CITEQA_ADMIN_KEY": ADMIN_KEY,
        "CITEQA_CORPUS_DIR": str(CORPUS),
    }
    serve = ("service.cli", "serve", "--pid-file", str(cwd / ".citeqa" / "serve.pid"))
    try:
        with started_server(index_dir, {"CITEQA_ADMIN_KEY": ADMIN_KEY}, module=serve) as server:
            yield Shell(server.url, cwd, env)
    except ServerFailed as error:
        pytest.fail(str(error))


def test_the_readme_has_examples_to_run() -> None:
    ran = examples()
    assert sum(e.language == "console" for e in ran) >= 2 and sum(e.language == "sh" for e in ran) >= 4
    text = README.read_text(encoding="utf-8")
    # One spelling of the host, no progress meters in the output, no signal to every matching process.
    assert "localhost:8000" not in text and "pkill" not in text
    assert not re.search(r"curl (?!.*-sS)[^\n]*http", text), "every curl example is -sS"


@pytest.mark.parametrize("example", examples(), ids=lambda e: f"README line {e.line}")
def test_a_readme_example_gives_what_the_readme_shows(example: Example, shell: Shell) -> None:
    before = _reloads(shell.url)
    outputs = []
    for command in example.commands:
        result = shell.run(command)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        if command.startswith("curl"):
            assert result.stderr == "", "no progress meter, no error"
        outputs.append(result.stdout)
    if example.language == "console":
        assert outputs[0] == example.output, example.commands[0]
    elif example.shown and example.shown[0] == "json":
        assert _matches(_readme_json(example.shown[1]), json.loads(outputs[-1]))
    elif example.shown:
        assert _matches(_events(example.shown[1]), _events(outputs[-1]))
    else:
        signals = [c for c in example.commands if c.startswith("kill -HUP") or "/admin/reload" in c]
        if signals:  # each reload, by signal or route, reloads this server's index
            assert _wait_reloads(shell.url, before + len(signals)) == before + len(signals)
        elif "/ask/stream" in example.commands[-1]:
            assert _events(outputs[-1])[-1][0] == "done"


def _readme_json(text: str) -> Any:
    """The README's JSON, its elisions made checkable: `..., }` ends an object shown in part, `..., ]` a
    list shown in part, "..." inside a string stands for any text."""
    text = re.sub(r",\s*\.\.\.\s*}", "}", text)
    text = re.sub(r",\s*\.\.\.\s*]", f', "{MORE}"]', text)
    return json.loads(text)


def _events(text: str) -> list[tuple[str, Any]]:
    return [
        (match[1], _readme_json(match[2]))
        for match in re.finditer(r"^event: (\w+)\ndata: (.*)$", text, re.M)
    ]


def _matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)):
            return False
        if expected and expected[-1] == MORE:
            expected = expected[:-1]
            actual = actual[: len(expected)]
        return len(expected) == len(actual) and all(_matches(e, a) for e, a in zip(expected, actual))
    if isinstance(expected, str) and "..." in expected:
        pattern = ".*".join(map(re.escape, expected.split("...")))
        return isinstance(actual, str) and re.fullmatch(pattern, actual, re.S) is not None
    if isinstance(expected, float):
        # A score shown rounded (0.82 for 0.8149): close, not equal.
        return isinstance(actual, (int, float)) and abs(actual - expected) < 0.01
    return bool(expected == actual)


def _reloads(url: str) -> int:
    metrics = httpx.get(f"{url}/metrics", timeout=10).text
    return int(float(re.search(r'citeqa_index_reloads_total\{result="ok"\} (\S+)', metrics)[1]))  # type: ignore[index]


def _wait_reloads(url: str, wanted: int, seconds: float = 30) -> int:
    """SIGHUP reloads in a thread of its own: the count once it reaches ``wanted`` or time is up."""
    deadline = time.monotonic() + seconds
    while (count := _reloads(url)) < wanted and time.monotonic() < deadline:
        time.sleep(0.1)
    return count
