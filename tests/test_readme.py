"""The shell examples of the README and of the docs pages, pasted into bash as a reader would, against a real
server on loopback: each must give what its page shows under it."""

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

from service.config import Settings
from service.local_server import ServerFailed, started_server
from tests.support import CORPUS, ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
# What a reader pastes from: the README, and every page of the docs site.
PAGES = [README, *sorted(DOCS.glob("*.md"))]
# Markdown read on GitHub rather than in the site, whose links `mkdocs build --strict` does not check.
READ_ON_GITHUB = [README, ROOT / "eval" / "README.md"]
EXAMPLE_HOST = "http://127.0.0.1:8000"
ADMIN_KEY = "readme-admin-key"
# Examples that start a server or set up the machine are not run here: the fixture starts the server.
RUN = re.compile(r"^(curl|kill|citeqa (ask|index))\b")
MORE = "<<more>>"
FENCED = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


@dataclass
class Example:
    page: Path
    line: int
    language: str  # console: commands after "$ " with their output; sh: commands only
    commands: list[str]
    output: str = ""  # console: what the page shows after the command
    shown: tuple[str, str] | None = None  # sh: the block that follows (language, text), if any

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)} line {self.line}"


def examples(page: Path) -> list[Example]:
    text = page.read_text(encoding="utf-8")
    # (line, language, text, section): a block of output belongs to the example before it in its section.
    blocks = [
        (text[: match.start()].count("\n") + 1, match[1], match[2], _headings(text[: match.start()]))
        for match in FENCED.finditer(text)
    ]
    found: list[Example] = []
    for i, (line, language, block, section) in enumerate(blocks):
        if language == "console":
            for command in re.split(r"^\$ ", block, flags=re.M)[1:]:
                head, output = _continued(command)
                found.append(Example(page, line, language, [head], output))
        elif language == "sh":
            commands = _commands(block)
            if commands and all(RUN.match(command) for command in commands):
                after = blocks[i + 1] if i + 1 < len(blocks) else None
                follows = after if after and after[1] in ("json", "text") and after[3] == section else None
                shown = (follows[1], follows[2]) if follows else None
                found.append(Example(page, line, language, commands, shown=shown))
    return found


def _headings(text: str) -> int:
    """How many headings ``text`` has, its code blocks left out: a shell comment is no heading."""
    return len(re.findall(r"^#+ ", FENCED.sub("", text), re.M))


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
        command = command.replace(EXAMPLE_HOST, self.url)
        return subprocess.run(
            ["bash", "-c", command], cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=300
        )


@pytest.fixture(scope="module")
def shell(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shell]:
    """bash in a fresh folder with `citeqa` on the PATH and a server as the pages' examples expect it:
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


def test_the_readme_and_the_docs_have_examples_to_run() -> None:
    readme = examples(README)
    docs = [example for page in PAGES if page != README for example in examples(page)]
    # The README's asking over HTTP and on the command line, each with the output it shows.
    assert sum(e.language == "console" for e in readme) >= 2
    assert sum(e.language == "console" for e in docs) >= 2 and sum(e.language == "sh" for e in docs) >= 4


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_a_page_writes_its_examples_as_they_are_run(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    # One spelling of the host, no progress meters in the output, no signal to every matching process.
    assert "localhost:8000" not in text and "pkill" not in text
    assert not re.search(r"curl (?!.*-sS)[^\n]*http", text), "every curl example is -sS"


def test_the_configuration_page_names_every_setting() -> None:
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    variables = [f"CITEQA_{name.upper()}" for name in Settings.model_fields]
    assert [variable for variable in variables if f"`{variable}`" not in page] == []


@pytest.mark.parametrize("page", READ_ON_GITHUB, ids=lambda page: str(page.relative_to(ROOT)))
def test_a_relative_link_read_on_github_reaches_its_file_and_heading(page: Path) -> None:
    text = FENCED.sub("", page.read_text(encoding="utf-8"))
    # Inline links and reference definitions, those to other sites left out.
    links = re.findall(r"\]\((?!https?:)([^)\s]+)\)", text) + re.findall(r"^\[[^\]]+\]: (?!https?:)(\S+)$", text, re.M)
    for link in links:
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.name}: {link}"
        if anchor:
            assert anchor in _anchors(target), f"{page.name}: {link}"


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the headings of ``page``: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.*)$", FENCED.sub("", page.read_text(encoding="utf-8")), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("example", [e for page in PAGES for e in examples(page)], ids=lambda e: e.name)
def test_an_example_gives_what_its_page_shows(example: Example, shell: Shell) -> None:
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
        assert _matches(_shown_json(example.shown[1]), json.loads(outputs[-1]))
    elif example.shown:
        assert _matches(_events(example.shown[1]), _events(outputs[-1]))
    else:
        signals = [c for c in example.commands if c.startswith("kill -HUP") or "/admin/reload" in c]
        if signals:  # each reload, by signal or route, reloads this server's index
            assert _wait_reloads(shell.url, before + len(signals)) == before + len(signals)
        elif "/ask/stream" in example.commands[-1]:
            assert _events(outputs[-1])[-1][0] == "done"


def _shown_json(text: str) -> Any:
    """A page's JSON, its elisions made checkable: `..., }` ends an object shown in part, `..., ]` a
    list shown in part, "..." inside a string stands for any text."""
    text = re.sub(r",\s*\.\.\.\s*}", "}", text)
    text = re.sub(r",\s*\.\.\.\s*]", f', "{MORE}"]', text)
    return json.loads(text)


def _events(text: str) -> list[tuple[str, Any]]:
    return [(match[1], _shown_json(match[2])) for match in re.finditer(r"^event: (\w+)\ndata: (.*)$", text, re.M)]


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
