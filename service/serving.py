"""`citeqa serve`: one process, or with ``--workers N`` a supervisor and N worker processes on one port.

Each worker has its own model and maps the one index on disk read-only (``FaissStore.load``, ``read_index``),
so N workers hold one copy of it in the page cache. A small supervisor rather than uvicorn's ``workers=``:
uvicorn answers SIGHUP by replacing every worker with a new process (a model load each, and the kept-alive
connections of the old one closed under its clients), and a reload asked of one worker by ``POST
/admin/reload`` would reach that worker alone. Here workers stay up and each reloads as one process does
(the index loaded aside, then swapped in): SIGHUP to the supervisor is forwarded to every worker, and a
worker reloaded by the admin route sends SIGHUP to the supervisor, which forwards it to the others (it
tells who sent a signal, which a signal handler cannot).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
from multiprocessing.process import BaseProcess
from multiprocessing.queues import SimpleQueue
from pathlib import Path

from service.config import Settings

logger = logging.getLogger("citeqa")

# Below Python's 5 ms, so the thread that hands batches to the model's process waits less for the interpreter
# lock: more answers a second under many clients (see eval/bench/BENCHMARKS.md#thread-switch-interval).
GIL_SWITCH_SECONDS = 0.0005
# What the supervisor waits for; blocked while it runs, so that it takes them one at a time, with the sender.
SUPERVISED = frozenset({signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGCHLD})
# How often the supervisor looks for workers that became ready, between signals.
_POLL_SECONDS = 0.2
# A worker given this long to finish its requests when the server stops, then killed.
_STOP_SECONDS = 30
_PR_SET_PDEATHSIG = 1


def serve(settings: Settings, pid_file: Path | None) -> int:
    """Serve until stopped; ``pid_file`` names the process to send SIGHUP (the supervisor, with workers)."""
    if settings.workers == 1:
        run_worker(settings, pid_file=pid_file)
        return 0
    return Supervisor(settings, pid_file).run()


def run_worker(
    settings: Settings,
    listener: socket.socket | None = None,
    ready: SimpleQueue[int] | None = None,
    pid_file: Path | None = None,
) -> None:
    """Load the model and index, then answer: the whole server alone, or one worker on the supervisor's
    ``listener``, telling ``ready`` once loaded."""
    import uvicorn

    from service.answering.qa import QuestionAnswering
    from service.api.app import create_app
    from service.api.reload import reload_on_sighup
    from service.logs import log_config

    supervisor = os.getppid() if listener is not None else None
    qa = QuestionAnswering(settings)
    if supervisor is not None:
        _stop_with_parent()
        # A SIGHUP forwarded while this worker loads waits (blocked, as the supervisor's mask is inherited)
        # until the handler is in place, and then reloads the index published meanwhile.
        reload_on_sighup(qa)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SUPERVISED)
    # Load before answering, so a missing or mismatched index stops here with its reason.
    qa.warm_up()
    if supervisor is None:
        reload_on_sighup(qa)
    # The thread that hands batches to the model's process waits for the interpreter lock while the
    # event loop holds it; at Python's 5 ms switch interval the model sat idle between batches.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    if ready is not None:
        ready.put(os.getpid())
    config = uvicorn.Config(
        create_app(settings, qa, supervisor=supervisor),
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=log_config(),
        access_log=False,  # the app logs each request as JSON, with its id (service/api/request_log.py)
    )
    # Listening before the PID file is written: a client that waits for the file connects at once (the
    # kernel queues the connection until the server accepts it).
    sockets = [listener if listener is not None else config.bind_socket()]
    sockets[0].listen(config.backlog)  # bound is not yet listening: uvicorn listens only once started
    # Written once SIGHUP reloads (before, it would stop the process): a signal by this file reaches this
    # server alone, where `pkill -f 'citeqa serve'` reaches every one that matches.
    if pid_file:
        _write_pid_file(pid_file)
    try:
        uvicorn.Server(config).run(sockets=sockets)
    finally:
        if pid_file:
            remove_pid_file(pid_file)


def _worker(settings: Settings, listener: socket.socket, ready: SimpleQueue[int]) -> None:
    """A worker process: an index it cannot load is told in one line and exit code, as by a single process."""
    from service.cli.errors import reported

    def work() -> int:
        """Run the worker, as ``reported`` takes it: 0 once it stops."""
        run_worker(settings, listener, ready)
        return 0

    sys.exit(reported(work))


def _stop_with_parent() -> None:
    """Have the kernel stop this worker when the supervisor dies, even by SIGKILL: no orphan keeps the port."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """Binds the port, starts the workers on it (the kernel hands each connection to one of them), forwards
    reloads, replaces a worker that dies after it was ready, and stops them all on SIGTERM or SIGINT."""

    def __init__(self, settings: Settings, pid_file: Path | None) -> None:
        self.settings = settings
        self.pid_file = pid_file
        self._context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self._ready: SimpleQueue[int] = self._context.SimpleQueue()
        self._listener: socket.socket | None = None
        self.workers: list[BaseProcess] = []
        self._loaded: set[int] = set()

    def run(self) -> int:
        """0 once stopped by a signal; 2 when a worker could not start (it said why)."""
        import uvicorn

        from service.logs import log_config

        signal.pthread_sigmask(signal.SIG_BLOCK, SUPERVISED)
        # uvicorn's own binding: the same address handling and "running on" line as a single process.
        config = uvicorn.Config(
            None,  # type: ignore[arg-type]
            host=self.settings.host,
            port=self.settings.port,
            log_config=log_config(),
        )
        self._listener = config.bind_socket()
        self._listener.listen(config.backlog)  # queueing connections from the start, as the PID file promises
        try:
            self.workers = [self._start() for _ in range(self.settings.workers)]
            return self._supervise()
        finally:
            self._stop()
            if self.pid_file:
                remove_pid_file(self.pid_file)

    def _start(self) -> BaseProcess:
        worker = self._context.Process(
            target=_worker, args=(self.settings, self._listener, self._ready), name="citeqa-worker"
        )
        worker.start()
        return worker

    def _supervise(self) -> int:
        while True:
            received = signal.sigtimedwait(SUPERVISED, _POLL_SECONDS)
            self._note_ready()
            if received is None or received.si_signo == signal.SIGCHLD:
                if not self._replace_exited():
                    return 2
            elif received.si_signo == signal.SIGHUP:
                self._forward_reload(received.si_pid)
            else:
                logger.info("stopping %d workers", len(self.workers))
                return 0

    def _note_ready(self) -> None:
        while not self._ready.empty():
            self._loaded.add(self._ready.get())
            if self.pid_file and all(worker.pid in self._loaded for worker in self.workers):
                _write_pid_file(self.pid_file, handle_term=False)

    def _forward_reload(self, sender: int) -> None:
        """SIGHUP to every worker but ``sender`` (a worker that reloaded by the admin route)."""
        others = [worker for worker in self.workers if worker.pid != sender and worker.is_alive()]
        logger.info("reloading the index in %d workers", len(others))
        for worker in others:
            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGHUP)

    def _replace_exited(self) -> bool:
        """Start a new worker for each that exited after it was ready; False when one exited before."""
        for position, worker in enumerate(self.workers):
            if worker.exitcode is None:
                continue
            if worker.pid not in self._loaded:
                print(f"citeqa: a worker exited ({worker.exitcode}) before it was ready; stopping", file=sys.stderr)
                return False
            logger.error("worker %s exited (%s); starting another", worker.pid, worker.exitcode)
            self.workers[position] = self._start()
        return True

    def _stop(self) -> None:
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
        for worker in self.workers:
            worker.join(_STOP_SECONDS)
            if worker.is_alive():
                worker.kill()
                worker.join()
        if self._listener is not None:
            self._listener.close()


def _write_pid_file(path: Path, handle_term: bool = True) -> None:
    """Write this process's id to ``path``, removed again however the server stops (``handle_term``, for a
    process that leaves SIGTERM to uvicorn: it shuts down and then raises the signal again, which ends the
    process before any ``finally``)."""

    def remove_and_stop(signum: int, frame: object) -> None:
        """The SIGTERM handler: remove the PID file, then end the process by the signal, as if it were not handled."""
        remove_pid_file(path)
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    path.write_text(f"{os.getpid()}\n", encoding="utf-8")
    if handle_term:
        signal.signal(signal.SIGTERM, remove_and_stop)


def remove_pid_file(path: Path) -> None:
    """Remove ``path`` when it still names this process (another server may have taken it over since)."""
    try:
        if path.read_text(encoding="utf-8").strip() == str(os.getpid()):
            path.unlink()
    except OSError:
        pass
