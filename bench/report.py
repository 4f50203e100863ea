"""The bench's Markdown table and its targets, from the results dictionary."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
Results = Dict[str, Any]


def dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = f"{value:.3f}" if value < 10 and not unit else f"{value:.1f}"
    return f"{value}{unit}"


# (figure, path in a pipeline's results, unit, target text, check)
Row = Tuple[str, Tuple[str, ...], str, str, Callable[[Any], bool] | None]
ROWS: List[Row] = [
    ("held-out intent accuracy", ("holdout", "accuracy"), "", ">= 0.95", lambda v: v >= 0.95),
    ("held-out macro-F1", ("holdout", "macro_f1"), "", "", None),
    ("5-fold CV accuracy (data/nlu)", ("cross_validation", "accuracy"), "", "", None),
    ("5-fold CV macro-F1", ("cross_validation", "macro_f1"), "", "", None),
    (
        "off-topic rejected (dialogue: out_of_scope / fallback)",
        ("off_topic", "dialogue", "rate"),
        "",
        ">= 0.90",
        lambda v: v >= 0.90,
    ),
    ("off-topic rejected (NLU intent only)", ("off_topic", "nlu", "rate"), "", "", None),
    (
        "red-flag held-out recall (scripts/red_flag_report.py)",
        ("red_flags", "component", "holdout_recall"),
        "",
        ">= 0.98",
        lambda v: v >= 0.98,
    ),
    ("red-flag recall through the model", ("red_flags", "model", "recall"), "", "1.0", None),
    (
        "red-flag false positives (model, near misses)",
        ("red_flags", "model", "false_positives"),
        "",
        "",
        None,
    ),
    ("training time", ("training_s",), " s", "<= 90 s", lambda v: v <= 90),
    ("Rasa server start-up", ("startup_s", "rasa"), " s", "", None),
    ("action server start-up", ("startup_s", "actions"), " s", "", None),
    ("Rasa server RSS, peak (MB)", ("rss_mb", "rasa_peak"), "", "<= 800", lambda v: v <= 800),
    ("action server RSS, peak (MB)", ("rss_mb", "actions_peak"), "", "", None),
    ("web app RSS, peak (MB)", ("rss_mb", "web_peak"), "", "", None),
]
LATENCY_TARGETS: Dict[str, List[Tuple[str, str, Callable[[Any], bool]]]] = {
    "rest_1": [("p50_ms", "<= 20", lambda v: v <= 20), ("p95_ms", "<= 60", lambda v: v <= 60)],
    "rest_20": [
        ("p95_ms", "<= 250", lambda v: v <= 250),
        ("throughput_msg_s", ">= 150", lambda v: v >= 150),
        ("errors", "0", lambda v: v == 0),
    ],
}
LOADS = [
    ("rest_1", "REST channel, 1 user"),
    ("rest_20", "REST channel, 20 concurrent"),
    ("gateway_1", "web gateway /api/chat, 1 user"),
    ("gateway_20", "web gateway /api/chat, 20 concurrent"),
]


def mark(check: Callable[[Any], bool] | None, value: Any) -> str:
    if check is None or value is None:
        return ""
    return " ✅" if check(value) else " ❌"


def tables(results: Results) -> str:
    names = list(results["pipelines"])
    pipelines = [results["pipelines"][n] for n in names]
    head = "| figure | target | " + " | ".join(names) + " |"
    lines = [head, "|---|---|" + "---|" * len(names)]
    for label, path, unit, target, check in ROWS:
        cells = [fmt(dig(p, *path), unit) + mark(check, dig(p, *path)) for p in pipelines]
        lines.append(f"| {label} | {target} | " + " | ".join(cells) + " |")
    out = ["\n".join(lines), ""]
    lat = ["| load | pipeline | messages | p50 ms | p95 ms | p99 ms | msg/s | errors |"]
    lat.append("|---|---|---|---|---|---|---|---|")
    for key, label in LOADS:
        for name, p in zip(names, pipelines, strict=True):
            load = dig(p, "latency", key)
            if not load:
                continue
            targets = {m: check for m, _, check in LATENCY_TARGETS.get(key, [])}
            cells = [
                fmt(load.get(m)) + mark(targets.get(m), load.get(m))
                for m in ("p50_ms", "p95_ms", "p99_ms", "throughput_msg_s", "errors")
            ]
            lat.append(f"| {label} | {name} | {load['messages']} | " + " | ".join(cells) + " |")
    out += ["\n".join(lat), ""]
    for name, p in zip(names, pipelines, strict=True):
        sweep = p.get("fallback_threshold_sweep")
        if sweep:
            out.append(
                f"FallbackClassifier threshold, {name} model (same model, re-thresholded):\n\n"
                "| threshold | held-out accuracy | held-out macro-F1 | off-topic rejected (NLU) |\n"
                "|---|---|---|---|"
            )
            for row in sweep:
                out.append(
                    f"| {row['threshold']} | {fmt(row['holdout_accuracy'])} | "
                    f"{fmt(row['holdout_macro_f1'])} | {fmt(row['off_topic_nlu_rate'])} |"
                )
            out.append("")
    for note in results.get("notes", []):
        out.append(f"- {note}")
    scale = results.get("scaleout")
    if scale and not scale.get("skipped"):
        out += [
            "",
            "| scale-out (PostgreSQL tracker store, Redis lock store) | msg/s | p95 ms | errors |",
            "|---|---|---|---|",
        ]
        for key in ("one_process", "two_processes"):
            load = scale[key]
            out.append(
                f"| {load['label']} | {fmt(load['throughput_msg_s'])} | "
                f"{fmt(load['p95_ms'])} | {load['errors']} |"
            )
    elif scale:
        out += ["", f"- scale-out 1 vs 2 processes: {scale['skipped']}"]
    if results.get("console"):
        out += ["", console_table(results["console"])]
    return "\n".join(out).rstrip() + "\n"


BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def console_table(console: Results) -> str:
    """The staff console's list pages at ``conversations`` conversations (``bench/console.py``):
    the query alone and the whole page, per database, each page against the target."""
    target = console["target_ms"]
    measured = {k: v for k, v in console["backends"].items() if not v.get("skipped")}
    names = [BACKEND_NAMES.get(k, k) for k in measured]
    head = "| staff console page | rows | " + " | ".join(
        f"{n} query ms | {n} page ms" for n in names
    )
    lines = [
        f"Staff console, {console['conversations']:,} conversations (`make bench-console`): "
        f"server time, median of 5; target: every page <= {target:.0f} ms.",
        "",
        head + " |",
        "|---|---|" + "---|---|" * len(names),
    ]

    def check(value: float) -> bool:
        return value <= target

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f}"

    by_name = [{p["name"]: p for p in figures["pages"]} for figures in measured.values()]
    for name in by_name[0] if by_name else {}:
        pages = [b.get(name, {}) for b in by_name]
        cells = [
            f"{ms(p.get('query_ms'))} | {ms(p.get('page_ms'))}{mark(check, p.get('page_ms'))}"
            for p in pages
        ]
        lines.append(f"| {name} | {pages[0].get('rows', '')} | " + " | ".join(cells) + " |")
    lines.append("")
    for key, figures in console["backends"].items():
        label = BACKEND_NAMES.get(key, key)
        if figures.get("skipped"):
            lines.append(f"- {label}: {figures['skipped']}")
            continue
        seeded = (
            f"{figures['events']:,} events seeded in {figures['seed_s']} s; "
            if "seed_s" in figures
            else ""
        )
        lines.append(
            f"- {label}: {seeded}the index read {figures['indexed_events']:,} events (user, "
            f"bot, action, slot) into {figures['conversations']:,} rows once, in "
            f"{figures['index_s']} s; a sync with nothing new {figures['sync_nothing_new_ms']} ms"
        )
    return "\n".join(lines) + "\n"


def targets(results: Results) -> List[Dict[str, Any]]:
    """Every target, with each pipeline's value and whether it is met."""
    rows = []
    for name, pipeline in results["pipelines"].items():
        for label, path, _, target, check in ROWS:
            if check is not None and (value := dig(pipeline, *path)) is not None:
                rows.append(
                    {"pipeline": name, "figure": label, "target": target, "value": value}
                    | {"met": bool(check(value))}
                )
        for key, checks in LATENCY_TARGETS.items():
            for metric, target, check in checks:
                value = dig(pipeline, "latency", key, metric)
                if value is not None:
                    rows.append(
                        {"pipeline": name, "figure": f"{key} {metric}", "target": target}
                        | {"value": value, "met": bool(check(value))}
                    )
    console = results.get("console") or {}
    for backend, figures in (console.get("backends") or {}).items():
        if figures.get("slowest_page_ms") is not None:
            value, target_ms = figures["slowest_page_ms"], console["target_ms"]
            rows.append(
                {"pipeline": "", "figure": f"staff console slowest list page, {backend}"}
                | {"target": f"<= {target_ms:.0f} ms", "value": value, "met": value <= target_ms}
            )
    return rows


def write_readme(path: Path, table: str, header: str) -> None:
    """Replaces the generated part of ``path`` (between the markers), keeping the rest."""
    generated = f"{BEGIN}\n{header}\n\n{table}{END}"
    if path.exists() and BEGIN in (text := path.read_text(encoding="utf-8")):
        text = re.sub(
            re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: generated, text, flags=re.S
        )
    else:
        text = f"# Benchmarks\n\n{generated}\n"
    path.write_text(text, encoding="utf-8")
