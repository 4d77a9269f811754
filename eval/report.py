"""The eval run as a terminal table, a JSON file and a self-contained HTML page."""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path
from typing import Any

from eval.runner import EvalRun
from indexer.markers import GROUP_RE

# Metrics where lower is better; the rest are shares (higher is better) or counts and milliseconds.
LOWER_IS_BETTER = frozenset({"unsupported_marker_rate", "near_misses_answered", "latency_p50_ms", "latency_p95_ms"})
_NOT_SHARES = frozenset({"questions", "near_misses_answered", "latency_p50_ms", "latency_p95_ms"})
# Where the metrics are defined in full; each is also given one line wherever it is shown, since a bare
# name such as abstain_precision does not say what was counted.
METRICS_DOC = Path(__file__).with_name("README.md")
_DEFINITIONS = {
    "questions": "questions asked",
    "accuracy": (
        "share of questions passed: answered with every fact and only gold markers, or abstained when unanswerable"
    ),
    "hit@": "share of answerable questions with evidence among the top {n} passages",
    "mrr": "mean of 1 / rank of the first passage holding evidence (0 when none is retrieved)",
    "ndcg@": "nDCG of the evidence's ranks in the top {n} passages (binary gains)",
    "fact_recall": "mean share of a question's gold facts found in its answer (0 when it abstained)",
    "token_f1": "SQuAD token F1 between the answer and the reference, markers left out",
    "marker_precision": "share of the answers' markers that are gold markers",
    "marker_recall": "share of the gold markers found in the answers",
    "unsupported_marker_rate": "share of answer markers that the cited passage does not carry; must be 0",
    "abstain_precision": "share of abstentions that were on unanswerable questions",
    "abstain_recall": "share of unanswerable questions that got an abstention",
    "answered_rate": "share of answerable questions that got an answer",
    "visible@": "share of answerable questions whose facts and markers the answer and the first {n} closest"
    " sentences show",
    "near_misses_answered": "questions the reports do not answer that got an answer; must be 0",
    "latency_p50_ms": "median time per question, in milliseconds",
    "latency_p95_ms": "95th percentile of the time per question, in milliseconds",
}
# The gold set's kinds of question, in the order the summary shows them; others follow by name.
KINDS = ("direct", "paraphrase", "inherited", "multi-claim", "unanswerable")


# The metrics' names as a user writes them (``hit@N``: any cutoff).
METRIC_NAMES = tuple(name + "N" if name.endswith("@") else name for name in _DEFINITIONS)


def definition(name: str) -> str:
    """One line saying what the metric ``name`` measures (``hit@3``: the top 3 passages); empty for a
    name that is no metric's."""
    prefix, at, n = name.partition("@")
    if at:
        return _DEFINITIONS.get(prefix + at, "").format(n=n) if n.isdigit() else ""
    return _DEFINITIONS.get(name, "")


def by_kind(run: EvalRun) -> dict[str, dict[str, int]]:
    """Questions and passes per kind of question, so a kind that fails as a whole is seen at once."""
    counts: dict[str, dict[str, int]] = {}
    for result in run.results:
        kind = counts.setdefault(result.item.kind or "other", {"questions": 0, "passed": 0})
        kind["questions"] += 1
        kind["passed"] += int(result.correct)
    order = {kind: i for i, kind in enumerate(KINDS)}
    return dict(sorted(counts.items(), key=lambda item: (order.get(item[0], len(KINDS)), item[0])))


def format_value(name: str, value: float | int | None) -> str:
    """A metric's value as the reports show it: shares to three decimals, milliseconds to one, counts whole; ``n/a`` for
    none."""
    if value is None:
        return "n/a"
    if name in _NOT_SHARES:
        return f"{value:.1f}" if isinstance(value, float) else str(value)
    return f"{value:.3f}"


def table(run: EvalRun) -> str:
    """The run for the terminal: passes by kind, each metric with what it measures, and the questions that failed."""
    kinds = by_kind(run)
    kind_width = max(len("kind"), *(len(kind) for kind in kinds))
    lines = [f"{'kind'.ljust(kind_width)}  passed", f"{'-' * kind_width}  ------"]
    lines += [f"{kind.ljust(kind_width)}  {c['passed']} of {c['questions']}" for kind, c in kinds.items()]
    width = max(len(name) for name in run.metrics)
    lines += ["", f"{'metric'.ljust(width)}  value  what it measures", f"{'-' * width}  -----  ----------------"]
    lines += [
        f"{name.ljust(width)}  {format_value(name, value).ljust(5)}  {definition(name)}"
        for name, value in run.metrics.items()
    ]
    lines.append(f"(definitions in full: {METRICS_DOC}, section Metrics)")
    failures = [r for r in run.results if not r.correct]
    lines.append(f"\n{len(run.results) - len(failures)}/{len(run.results)} questions passed")
    if failures:
        lines.append("failed: " + ", ".join(r.item.id for r in failures))
    near_misses = [r for r in failures if not r.item.answerable]
    if near_misses:
        lines.append("near misses answered: " + ", ".join(f"{r.item.id} ({r.item.question})" for r in near_misses))
    return "\n".join(lines)


def to_json(run: EvalRun) -> dict[str, Any]:
    """The run as ``eval.json`` holds it: the metrics, passes by kind, and every question with its answer and scores."""
    return {
        "target": run.target,
        "k": run.k,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metrics": run.metrics,
        "kinds": by_kind(run),
        "questions": [
            {
                "id": r.item.id,
                "kind": r.item.kind,
                "question": r.item.question,
                "answerable": r.item.answerable,
                "answer": r.response.get("answer"),
                "abstained": r.abstained,
                "answer_markers": r.answer_markers,
                "gold_markers": list(r.item.markers),
                "unsupported_markers": r.unsupported_markers,
                "evidence_ranks": r.evidence_ranks,
                "fact_recall": r.fact_recall,
                "token_f1": r.token_f1,
                "correct": r.correct,
                "why": r.why,
                "expected_facts": list(r.item.facts),
                "closest": r.response.get("closest") or [],
                "visible_from": r.visible_from,
                "note": r.response.get("note"),
                "latency_ms": round(r.seconds * 1000, 2),
            }
            for r in run.results
        ],
    }


def write_reports(run: EvalRun, folder: Path) -> tuple[Path, Path]:
    """Write ``eval.json`` and ``eval.html`` into ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    data = to_json(run)
    json_path, html_path = folder / "eval.json", folder / "eval.html"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    html_path.write_text(_html(data), encoding="utf-8")
    return json_path, html_path


_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:28px 20px 60px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 12px}
.sub{color:#5b6475;margin:0 0 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:16px}
.card{background:#fff;border:1px solid #e2e5ea;border-radius:10px;padding:16px}
.metric{display:grid;grid-template-columns:190px 1fr 56px;gap:8px;align-items:center;margin:6px 0;font-size:14px}
.bar{background:#eceff3;border-radius:4px;height:10px;overflow:hidden}
.bar>span{display:block;height:100%;background:#2f6fdf}
.bar.warn>span{background:#d9822b}.bar.bad>span{background:#c93c3c}
.val{text-align:right;font-variant-numeric:tabular-nums}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #e2e5ea;border-radius:10px;font-size:13.5px}
th,td{padding:8px 10px;border-bottom:1px solid #edf0f3;text-align:left;vertical-align:top}
th{background:#fafbfc;font-weight:600;position:sticky;top:0}
tr.fail td{background:#fff7f7}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.pass{background:#e3f4e8;color:#1e6b35}.failb{background:#fbe4e4;color:#9b2222}
.abst{color:#5b6475;font-style:italic}
.mk{display:inline-block;background:#eaf1fd;color:#1f4fa8;border-radius:4px;padding:0 4px;margin:0 1px;font-size:12px}
.mk.bad{background:#fbe4e4;color:#9b2222}
.muted{color:#7a8394;font-size:12px}
.metric .def{grid-column:1/-1;color:#7a8394;font-size:12px;margin:-4px 0 4px}
.kinds{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 20px}
.kind{background:#fff;border:1px solid #e2e5ea;border-radius:10px;padding:10px 14px;min-width:130px}
.kind b{display:block;font-size:20px}.kind.bad b{color:#9b2222}
svg text{font:11px system-ui,sans-serif;fill:#5b6475}
"""


def _html(data: dict[str, Any]) -> str:
    metrics: dict[str, Any] = data["metrics"]
    questions: list[dict[str, Any]] = data["questions"]
    passed = sum(q["correct"] for q in questions)
    shares = [
        (name, value) for name, value in metrics.items() if name not in _NOT_SHARES and isinstance(value, (int, float))
    ]
    bars = "".join(_bar(name, float(value)) for name, value in shares)
    latency = f"""<div class="card"><strong>Latency per question</strong>
      <p class="muted">p50 (median) {format_value('latency_p50_ms', metrics.get('latency_p50_ms'))} ms ·
      p95 {format_value('latency_p95_ms', metrics.get('latency_p95_ms'))} ms: the time to answer one question</p>
      {_histogram([q['latency_ms'] for q in questions])}</div>"""
    rows = "".join(_row(q) for q in questions)
    kinds = "".join(
        f'<div class="kind{" bad" if c["passed"] < c["questions"] / 2 else ""}"><span>{html.escape(kind)}</span>'
        f'<b>{c["passed"]} of {c["questions"]}</b><span class="muted">passed</span></div>'
        for kind, c in data["kinds"].items()
    )
    doc = html.escape(METRICS_DOC.as_uri() + "#metrics", quote=True)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>citeqa eval: {passed}/{len(questions)} passed</title><style>{_STYLE}</style></head>
<body><main>
<h1>citeqa eval</h1>
<p class="sub">{html.escape(str(data['target']))} · k={data['k']} · {html.escape(data['created_at'])} ·
<strong>{passed}/{len(questions)}</strong> questions passed</p>
<h2>By kind of question</h2>
<div class="kinds">{kinds}</div>
<div class="cards"><div class="card"><strong>Metrics</strong>
<p class="muted">Each defined below its bar; in full in <a href="{doc}">eval/README.md</a>.</p>
{bars}</div>{latency}</div>
<h2>Questions</h2>
<table><thead><tr><th>id</th><th>result</th><th>question</th><th>answer</th>\
<th>markers<br><span class="muted">answer / gold</span></th>
<th>evidence rank</th><th>ms</th></tr></thead><tbody>{rows}</tbody></table>
</main></body></html>
"""


def _bar(name: str, value: float) -> str:
    good = 1 - value if name in LOWER_IS_BETTER else value
    level = "" if good >= 0.8 else ("warn" if good >= 0.5 else "bad")
    width = max(0.0, min(1.0, value)) * 100
    return (
        f'<div class="metric"><span>{html.escape(name)}</span>'
        f'<span class="bar {level}"><span style="width:{width:.1f}%"></span></span>'
        f'<span class="val">{value:.3f}</span><span class="def">{html.escape(definition(name))}</span></div>'
    )


def _histogram(values: list[float], bins: int = 12, width: int = 360, height: int = 140) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    step = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(int((value - low) / step), bins - 1)] += 1
    top = max(counts)
    bar_width = width / bins
    rects = "".join(
        f'<rect x="{i * bar_width + 1:.1f}" y="{height - 20 - c / top * (height - 30):.1f}" '
        f'width="{bar_width - 2:.1f}" height="{c / top * (height - 30):.1f}" fill="#2f6fdf" rx="2">'
        f"<title>{low + i * step:.1f}–{low + (i + 1) * step:.1f} ms: {c}</title></rect>"
        for i, c in enumerate(counts)
    )
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="latency histogram">{rects}'
        f'<text x="0" y="{height - 4}">{low:.1f} ms</text>'
        f'<text x="{width}" y="{height - 4}" text-anchor="end">{high:.1f} ms</text></svg>'
    )


def _answer_html(answer: str, bad: set[str]) -> str:
    """Escaped answer text with each marker shown as a chip (red where unsupported)."""
    pieces: list[str] = []
    last = 0
    for match in GROUP_RE.finditer(answer):
        pieces.append(html.escape(answer[last : match.start()]))
        for marker in re.findall(r"[\[【［][^\]】］]*[\]】］]", match.group(0)):
            css = "mk bad" if marker in bad else "mk"
            pieces.append(f'<span class="{css}">{html.escape(marker)}</span>')
        last = match.end()
    pieces.append(html.escape(answer[last:]))
    return "".join(pieces)


def _row(q: dict[str, Any]) -> str:
    badge = '<span class="badge pass">pass</span>' if q["correct"] else '<span class="badge failb">fail</span>'
    answer = q["answer"] or ""
    answer_html = (
        f'<span class="abst">{html.escape(answer)}</span>'
        if q["abstained"]
        else _answer_html(answer, set(q["unsupported_markers"]))
    )
    if q["answerable"]:
        facts = ", ".join(f'"{fact}"' for fact in q.get("expected_facts", []))
        expected = (
            f'<div class="muted">expected: {html.escape(facts or "an answer")} '
            f"{html.escape(' '.join(q['gold_markers']))}</div>"
        )
    else:
        expected = '<div class="muted">expected: no verified answer</div>'
    if q.get("why"):
        expected += f'<div class="muted">failed: {html.escape(q["why"])}</div>'
    for rank, sentence in enumerate(q.get("closest", []), start=1):
        answer_html += f'<div class="muted">closest #{rank}: {_answer_html(str(sentence.get("text", "")), set())}</div>'
    ranks = ", ".join("–" if r is None else str(r) for r in q["evidence_ranks"]) or "–"
    markers = f"{html.escape(' '.join(q['answer_markers']) or '–')} / {html.escape(' '.join(q['gold_markers']) or '–')}"
    return (
        f'<tr class="{"" if q["correct"] else "fail"}"><td>{html.escape(q["id"])}'
        f'<div class="muted">{html.escape(q["kind"] or "")}</div></td><td>{badge}</td>'
        f"<td>{html.escape(q['question'])}{expected}</td><td>{answer_html}</td><td>{markers}</td>"
        f"<td>{ranks}</td><td>{q['latency_ms']:.1f}</td></tr>"
    )
