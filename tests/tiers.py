"""Two tiers of tests: `make test-fast` runs those not marked ``slow``, in seconds and without the model;
`make test` runs them all.

A test is slow when it needs the model, an index, a server, a browser or another process. It is marked
from the fixtures it uses, so a new test lands in its tier without anyone marking it: ``embedder`` and every
fixture built on it (the seed index, the question answering, the server, a test module's own index) and
``browser``. A module whose tests start processes or load a model of their own says so itself
(``pytestmark = pytest.mark.slow``), as does a test that does so in a module of fast ones. So does every
module whose tests are all slow, whatever makes them so: the fast tier then does not even import it
(importing those modules took two fifths of its time).

A test left in the fast tier that starts a process or imports the model's libraries fails, saying so; so
does a module the fast tier imports (one not marked slow as a whole) that imports them at its top.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SLOW = "slow"
# The line of a module whose tests are all slow.
SLOW_MODULE = f"pytestmark = pytest.mark.{SLOW}"
# pytest lists among a test's fixtures those it uses through other fixtures too.
HEAVY_FIXTURES = frozenset({"embedder", "browser"})
# Loaded only to run the model: importing torch alone takes seconds on a busy machine.
MODEL_LIBRARIES = frozenset({"torch", "sentence_transformers", "transformers", "onnxruntime"})
# Audit events (https://docs.python.org/3/library/audit_events.html) of starting another process.
PROCESS_EVENTS = frozenset({"subprocess.Popen", "os.system", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn"})


class SlowWork(Exception):
    """Work of the slow tier done by a test or module of the fast one. Not an ImportError, which code
    that can do without a library catches."""


class Tripwire:
    """An audit hook that, while a fast test runs or a module is collected, refuses to start a process or
    import the model's libraries."""

    def __init__(self) -> None:
        self.watched: str | None = None
        self.tripped: list[str] = []

    def __call__(self, event: str, args: tuple[object, ...]) -> None:
        if self.watched is None:
            return
        # A package is imported before its modules: the package's name alone is the first import.
        if event == "import" and args[0] in MODEL_LIBRARIES:
            done = f"imports {args[0]}"
        elif event in PROCESS_EVENTS:
            done = "starts a process"
        else:
            return
        message = f"{self.watched} {done}: that is the slow tier's work, {remedy(self.watched)}"
        self.tripped.append(message)
        raise SlowWork(message)

    @contextmanager
    def watching(self, name: str, caught_fails: bool = True) -> Iterator[None]:
        """Trips while the block runs. ``caught_fails``: raises after it too when what it raised was caught
        on the way (pytest reports a module's collection errors itself)."""
        self.watched, self.tripped = name, []
        try:
            yield
        finally:
            self.watched = None
        if self.tripped and caught_fails:
            raise SlowWork(self.tripped[0])


def remedy(watched: str) -> str:
    if "::" in watched:
        return f"mark the test {SLOW} (or have it use a fixture built on {', '.join(sorted(HEAVY_FIXTURES))})"
    return "mark the module slow as a whole, or import the model's libraries inside the slow tests that use them"


TRIPWIRE = Tripwire()
# The model's libraries a run of fast tests alone loaded, said in its summary.
LOADED = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    sys.addaudithook(TRIPWIRE)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In the fast tier, a module marked slow as a whole is not imported: it has nothing to run there."""
    if config.getoption("markexpr") == f"not {SLOW}" and slow_as_a_whole(collection_path):
        return True
    return None  # as pytest would decide


def slow_as_a_whole(path: Path) -> bool:
    """Whether ``path`` is a module whose tests are all slow, read without importing it."""
    return path.suffix == ".py" and SLOW_MODULE in path.read_text(encoding="utf-8").splitlines()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the tests using a heavy fixture, before ``-m`` selects by marker."""
    for item in items:
        if HEAVY_FIXTURES & set(item.fixturenames):  # type: ignore[attr-defined]
            item.add_marker(SLOW)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A run of fast tests alone fails when the model's libraries were loaded all the same, by whatever
    the tripwire does not watch (a conftest, a fixture's teardown)."""
    loaded = sorted(MODEL_LIBRARIES & sys.modules.keys())
    if loaded and not any(item.get_closest_marker(SLOW) for item in session.items):
        session.config.stash[LOADED] = loaded
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if loaded := config.stash.get(LOADED, []):
        said = f"the fast tier loaded {', '.join(loaded)}, which only slow tests may"
        terminalreporter.write_sep("=", said, red=True)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    if not isinstance(collector, pytest.Module) or slow_as_a_whole(collector.path):
        return (yield)
    with TRIPWIRE.watching(collector.nodeid, caught_fails=False):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _watched(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _watched(item))


def _watched(item: pytest.Item) -> Generator[None, None, None]:
    if item.get_closest_marker(SLOW):
        return (yield)
    with TRIPWIRE.watching(item.nodeid):
        return (yield)
