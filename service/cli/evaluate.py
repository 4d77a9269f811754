"""``citeqa eval`` (score answers against gold questions, in-process or over HTTP) and ``citeqa convert``."""

from __future__ import annotations

import argparse
import sys

from indexer.errors import ConfigurationError
from service.cli.gates import failed_gates, read_gate
from service.cli.preflight import check_index
from service.config import Settings


def eval_command(settings: Settings, args: argparse.Namespace) -> int:
    """0, or 1 when a metric falls below its ``--fail-under`` bar."""
    import httpx

    from eval.datasets import load_gold, split_half
    from eval.report import table, write_reports
    from eval.runner import in_process, over_http, run_eval

    gates = [read_gate(text) for text in args.fail_under]
    if args.report and args.report.exists() and not args.report.is_dir():
        raise ConfigurationError(f"--report {args.report}: not a folder (the reports are written into one)")
    items = load_gold(args.gold, args.format)
    if args.half:
        items = split_half(items, args.half)
    if args.url:
        headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
        with httpx.Client(base_url=args.url, headers=headers, timeout=60) as client:
            run = run_eval(items, over_http(client, args.mode), settings.top_k, args.url, progress=not args.quiet)
    else:
        from service.answering.qa import QuestionAnswering

        check_index(settings)
        qa = QuestionAnswering(settings)
        qa.check_mode(args.mode)
        qa.warm_up()
        asker = in_process(qa, args.mode)
        run = run_eval(items, asker, settings.top_k, str(settings.index_dir), progress=not args.quiet)
    print(table(run))
    if args.report:
        json_path, html_path = write_reports(run, args.report)
        print(f"\nreports: {json_path} {html_path}")
    failed = failed_gates(gates, run.metrics)
    if failed:
        print("citeqa eval: below the bar: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def convert_command(settings: Settings, args: argparse.Namespace) -> int:
    """``citeqa convert``: write a gold set in another format; 0 once written."""
    from eval.datasets import load_gold, save_gold

    items = load_gold(args.source, args.source_format)
    save_gold(items, args.destination, args.target_format)
    print(f"Wrote {len(items)} questions to {args.destination} ({args.target_format}).")
    return 0
