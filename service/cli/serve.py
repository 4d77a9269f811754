"""``citeqa serve`` (the HTTP API) and ``citeqa mcp`` (the Model Context Protocol on stdin and stdout)."""

from __future__ import annotations

import argparse

from indexer.errors import ConfigurationError
from service.cli.preflight import check_address, check_index
from service.config import Settings


def serve_command(settings: Settings, args: argparse.Namespace) -> int:
    """``citeqa serve``: check the index, the PID file's folder and the address, then serve until stopped."""
    check_index(settings)  # before the imports and the model load: a wrong path is told in a second
    if args.pid_file and not args.pid_file.parent.is_dir():
        raise ConfigurationError(f"--pid-file: the folder {args.pid_file.parent} does not exist")
    check_address(settings.host, settings.port)
    from service.serving import serve

    return serve(settings, args.pid_file)


def mcp_command(settings: Settings, args: argparse.Namespace) -> int:
    """``citeqa mcp``: serve the Model Context Protocol on stdin and stdout until the client ends it; 0 then."""
    check_index(settings)  # told on stderr before the model loads; stdout is the protocol's
    from service.answering.qa import QuestionAnswering
    from service.api.mcp import create_mcp

    qa = QuestionAnswering(settings)
    qa.warm_up()
    create_mcp(qa).run("stdio")
    return 0
