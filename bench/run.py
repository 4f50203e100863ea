"""``make bench`` / ``make bench-quick``: the project's pipeline against Rasa's default one.

Usage: python -m bench.run [--quick] [--skip-default] [--skip-default-cv] [--no-ted]
                           [--no-scaleout] [--cv-only] [--cv-from DIR]

Full mode trains both pipelines on data/ and domain.yml (models under build/bench/,
models/ untouched) and writes bench/results.json and the table in bench/README.md.
Quick mode reuses the newest model in models/, skips the default pipeline, the
cross-validation and the scale-out run, sends fewer messages and writes to
results/bench-quick/.

Besides the two pipelines, full mode measures ``project+TED``: config.yml with the
TEDPolicy it no longer has, so the report shows what dropping TED gained and cost.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import yaml

from tests.servers import ROOT, VENV_BIN, newest_model

from . import console, dialogue, load, nlu, report
from .memory import PeakSampler, tree_rss_mb
from .stack import start_stack, stop_stack

BENCH = ROOT / "bench"
PROJECT_CONFIG = ROOT / "config.yml"
DEFAULT_CONFIG = BENCH / "config_default.yml"
# The TEDPolicy config.yml had before rules + memoization were measured to be enough.
TED_POLICY = {
    "name": "TEDPolicy",
    "max_history": 5,
    "epochs": 50,
    "constrain_similarities": True,
    "random_seed": 42,
}
CV_PIPELINES = ("project", "default")  # project+TED has the project's NLU: same figures


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def web_app_available() -> bool:
    try:
        from clinic.web.app import create_app  # noqa: F401
    except ImportError:
        return False
    return True


def with_ted(out: Path) -> Path:
    """config.yml plus ``TED_POLICY`` (comments are lost; settings are the same)."""
    config = yaml.safe_load(PROJECT_CONFIG.read_text(encoding="utf-8"))
    config["policies"].append(TED_POLICY)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "config_project_ted.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def cold_cache_env(folder: Path) -> Dict[str, str]:
    """Rasa reuses trained components from .rasa/cache: an empty cache times a cold run."""
    shutil.rmtree(folder, ignore_errors=True)
    return {**os.environ, "RASA_CACHE_DIRECTORY": str(folder)}


def train(config: Path, out: Path, name: str) -> tuple[Path, float]:
    """``rasa train`` with ``config`` (copied: Rasa writes its defaults into an empty one)."""
    out.mkdir(parents=True, exist_ok=True)
    copy = out / f"{name}-config.yml"
    shutil.copy(config, copy)
    started = time.monotonic()
    subprocess.run(
        [str(VENV_BIN / "rasa"), "train", "--config", str(copy), "--data", str(ROOT / "data")]
        + ["--domain", str(ROOT / "domain.yml"), "--out", str(out), "--fixed-model-name", name],
        cwd=ROOT,
        env=cold_cache_env(out / f"{name}-cache"),
        check=True,
        stdout=(out / f"{name}-train.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    return out / f"{name}.tar.gz", round(time.monotonic() - started, 1)


async def nlu_figures(model: Path, off_topic: List[str]) -> Dict[str, Any]:
    model_nlu = nlu.ModelNLU(model)
    figures = {
        "holdout": await model_nlu.holdout(),
        "off_topic_nlu": await model_nlu.off_topic_intents(off_topic),
        "red_flags_model": await model_nlu.red_flags(),
        "fallback_sweep": model_nlu.fallback_sweep([0.3, 0.4, 0.5, 0.6, 0.7, 0.8]),
    }
    del model_nlu
    gc.collect()
    return figures


async def serve_and_load(
    name: str, model: Path, workdir: Path, off_topic: List[str], sizes: Dict[str, int], web: bool
) -> Dict[str, Any]:
    """Starts the processes with ``model`` and measures them."""
    log(f"{name}: starting the action server, the Rasa server{' and the web app' if web else ''}")
    stack = start_stack(workdir, model, web=web)
    assert stack.actions is not None
    rasa = stack.rasa[0]
    pids = {"rasa": rasa.process.pid, "actions": stack.actions.process.pid}
    if stack.web:
        pids["web"] = stack.web.process.pid
    figures: Dict[str, Any] = {
        "startup_s": {
            "rasa": round(rasa.startup_s, 1),
            "actions": round(stack.actions.startup_s, 1),
        },
        "latency": {},
    }
    idle = {f"{k}_idle": round(tree_rss_mb(pid), 1) for k, pid in pids.items()}
    try:
        async with PeakSampler(pids) as sampler:
            targets = [("rest", load.Target("rest", [rasa.url]))]
            if stack.web:
                targets.append(("gateway", load.Target("gateway", [stack.web.url])))
            for kind, target in targets:
                await load.warm_up(target)
                for users, conversations in ((1, sizes["single"]), (20, sizes["concurrent"])):
                    log(f"{name}: {kind}, {users} user(s), {conversations} conversations")
                    result = await load.run_load(
                        target,
                        label=f"{kind}, {users} user(s)",
                        concurrency=users,
                        conversations=conversations,
                        deadline_s=sizes["deadline_s"],
                        sender_prefix=f"{name}-{kind}-{users}",
                    )
                    figures["latency"][f"{kind}_{users}"] = result.summary()
                    log(f"  {json.dumps(result.summary())}")
            log(f"{name}: {len(off_topic)} off-topic messages through the REST channel")
            prefix = f"{name}-offtopic"
            errors = await dialogue.send_each_as_new_conversation(rasa.url, off_topic, prefix)
        outcomes = dialogue.turn_outcomes(workdir / "tracker.db", prefix, len(off_topic))
        figures["off_topic_dialogue"] = dialogue.rejection_summary(outcomes, errors)
        figures["rss_mb"] = idle | {f"{k}_peak": round(v, 1) for k, v in sampler.peak_mb.items()}
    finally:
        stop_stack(stack)
    return figures


async def measure(
    name: str,
    config: Path,
    model: Path,
    training_s: float | None,
    args: argparse.Namespace,
    sizes: Dict[str, int],
    work: Path,
) -> Dict[str, Any]:
    off_topic = nlu.off_topic_messages()
    sample = off_topic[:: sizes["off_topic_step"]]
    log(f"{name}: NLU figures with {model.name}")
    nlu_part = await nlu_figures(model, off_topic)
    served = await serve_and_load(
        name, model, work / f"{name}-serve", sample, sizes, web=web_app_available()
    )
    result: Dict[str, Any] = {
        "config": str(config.relative_to(ROOT)),
        "model": str(model.relative_to(ROOT)) if model.is_relative_to(ROOT) else str(model),
        "training_s": training_s,
        "holdout": nlu_part["holdout"],
        "off_topic": {
            "nlu": nlu_part["off_topic_nlu"],
            "dialogue": served.pop("off_topic_dialogue"),
        },
        "red_flags": {
            "model": nlu_part["red_flags_model"],
            "component": nlu.red_flag_component_report(),
        },
        "fallback_threshold_sweep": nlu_part["fallback_sweep"],
        **served,
    }
    return result


async def scaleout(model: Path, work: Path, sizes: Dict[str, int]) -> Dict[str, Any]:
    """Throughput with 1 and with 2 Rasa processes on PostgreSQL + Redis."""
    from .services import missing_packages, start_postgres, start_redis, stop_postgres, stop_redis

    if missing := missing_packages():
        return {"skipped": f"missing Debian packages {missing} (make scaleout-deps)"}
    pg = start_postgres()
    redis = start_redis()
    try:
        env = {"TRACKER_STORE_URL": pg.url, "LOCK_STORE_URL": redis.url}
        stack = start_stack(work / "scaleout", model, rasa_processes=2, extra_env=env)
        try:
            urls = [server.url for server in stack.rasa]
            out: Dict[str, Any] = {}
            for key, targets in (("one_process", urls[:1]), ("two_processes", urls)):
                target = load.Target("rest", targets)
                await load.warm_up(target)
                result = await load.run_load(
                    target,
                    label=f"REST, 20 concurrent, {len(targets)} Rasa process(es)",
                    concurrency=20,
                    conversations=sizes["concurrent"],
                    deadline_s=sizes["deadline_s"],
                    sender_prefix=f"scale-{key}",
                )
                out[key] = result.summary()
                log(f"  {json.dumps(out[key])}")
            return out
        finally:
            stop_stack(stack)
    finally:
        stop_redis(redis)
        stop_postgres(pg)


async def main_async(args: argparse.Namespace) -> Dict[str, Any]:
    out_dir = ROOT / "results" / "bench-quick" if args.quick else BENCH
    work = ROOT / "build" / "bench" / ("quick" if args.quick else "full")
    if args.cv_only:  # add the cross-validation to the last full run's results
        results = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
        configs = {"project": PROJECT_CONFIG, "default": DEFAULT_CONFIG}
        await cross_validations(
            results,
            [(n, configs[n]) for n in results["pipelines"] if n in CV_PIPELINES],
            args,
            work,
            out_dir,
        )
        return results
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sizes = (
        {"single": 3, "concurrent": 20, "off_topic_step": 6, "deadline_s": 120}
        if args.quick
        else {"single": 20, "concurrent": 100, "off_topic_step": 1, "deadline_s": 600}
    )
    results: Dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "rasa": _version("rasa"),
        },
        "pipelines": {},
        "notes": [],
    }
    pipelines = [("project", PROJECT_CONFIG)]
    if not (args.quick or args.no_ted):
        pipelines.append(("project+TED", with_ted(work)))
    if not (args.quick or args.skip_default):
        pipelines.append(("default", DEFAULT_CONFIG))
    for name, config in pipelines:
        if args.quick:
            model, training_s = newest_model(), None
            results["notes"].append(f"quick mode: reused {model.name}, training not timed")
        else:
            log(f"{name}: training {config.name}")
            model, training_s = train(config, work / "models", name)
            log(f"{name}: trained in {training_s} s")
        results["pipelines"][name] = await measure(
            name, config, model, training_s, args, sizes, work
        )
        save(results, out_dir)
    if args.quick or args.skip_default:
        results["notes"].append("default pipeline not measured (quick mode / --skip-default)")
    if not web_app_available():
        results["notes"].append("clinic/web has no create_app: the gateway was not measured")
    results["notes"].append(
        "the load client runs on the same 2 cores as the servers it measures; web gateway "
        "runs with its per-address rate limit lifted (all simulated visitors are 127.0.0.1)"
    )
    save(results, out_dir)
    if args.quick or args.no_scaleout:
        results["scaleout"] = {"skipped": "not run in quick mode / --no-scaleout"}
    else:
        log("scale-out: 1 vs 2 Rasa processes on PostgreSQL + Redis")
        results["scaleout"] = await scaleout(results_model(results, work), work, sizes)
        save(results, out_dir)
    log("staff console: list and filter pages on seeded conversations (bench/console.py)")
    results["console"] = await asyncio.to_thread(console.for_bench, work / "console", args.quick)
    save(results, out_dir)
    await cross_validations(results, pipelines, args, work, out_dir)
    return results


async def cross_validations(
    results: Dict[str, Any],
    pipelines: List[tuple[str, Path]],
    args: argparse.Namespace,
    work: Path,
    out_dir: Path,
) -> None:
    """Last, because it is the longest: 5 NLU models trained per pipeline."""
    for name, config in pipelines:
        if args.quick or name not in CV_PIPELINES:
            continue
        finished = args.cv_from / f"{name}-cv" if args.cv_from else None
        if finished and (finished / "intent_report.json").exists():
            log(f"{name}: 5-fold cross-validation finished earlier in {finished}")
            cv = nlu.cross_validation_figures(finished) | {"run": f"earlier, in {finished}"}
        elif name == "default" and args.skip_default_cv:
            continue
        else:
            log(f"{name}: 5-fold cross-validation (trains 5 NLU models)")
            cv = nlu.cross_validation(config, work / f"{name}-cv")
        results["pipelines"][name]["cross_validation"] = cv
        log(f"  {json.dumps(cv)}")
        save(results, out_dir)
    results["complete"] = True
    print(save(results, out_dir))
    log(f"wrote {out_dir / 'results.json'} and {out_dir / 'README.md'}")


def save(results: Dict[str, Any], out_dir: Path) -> str:
    """Writes what is measured so far (``complete`` is false until the end); the table."""
    results.setdefault("complete", False)
    results["targets"] = report.targets(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    table = report.tables(results)
    status = "" if results["complete"] else " **Partial: the run had not finished.**"
    header = f"Measured {results['date']}, `{' '.join(['make bench'] + sys.argv[1:])}`, " + (
        f"{results['machine']['cores']} cores, Rasa {results['machine']['rasa']}.{status}"
    )
    report.write_readme(out_dir / "README.md", table, header)
    return table


def results_model(results: Dict[str, Any], work: Path) -> Path:
    return ROOT / results["pipelines"]["project"]["model"]


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sample, newest model only")
    parser.add_argument("--skip-default", action="store_true", help="project pipeline only")
    parser.add_argument(
        "--skip-default-cv", action="store_true", help="no cross-validation of the default one"
    )
    parser.add_argument(
        "--cv-only", action="store_true", help="only add the cross-validation to results.json"
    )
    parser.add_argument("--no-scaleout", action="store_true", help="no 1 vs 2 processes run")
    parser.add_argument("--no-ted", action="store_true", help="no project+TED comparison")
    parser.add_argument(
        "--cv-from",
        type=Path,
        help="a folder with <pipeline>-cv/ of an earlier cross-validation of the same data",
    )
    args = parser.parse_args(argv)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
