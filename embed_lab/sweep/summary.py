"""What a study found: every trial, the best on dev, and whether it beats the defaults beyond
noise (the lab's paired test, inventory/significance.py, over per-query dev ndcg@10).

Gold is read for the chosen trial only, and only to report it: nothing here chooses by gold.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np

from embed_lab.sweep.study import Sweep, best_trial

DEV_PER_QUERY = Path("eval") / "dev_per_query.csv"
CI_LEVEL = 0.95
CI_RESAMPLES = 2000


def dev_scores(run: Path | None) -> dict[str, float]:
    """{query_id: ndcg@10} of the run's fine-tuned model on the full dev split; {} if absent."""
    path = run / DEV_PER_QUERY if run else None
    if path is None or not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as file:
        return {row["query_id"]: float(row["ndcg@10"]) for row in csv.DictReader(file)}


def confidence_interval(values: np.ndarray) -> list[float] | None:
    """A 95 % percentile bootstrap interval of the mean over queries (2,000 seeded resamples)."""
    if len(values) < 2:
        return None
    from scipy.stats import bootstrap

    result = bootstrap(
        (values,),
        np.mean,
        confidence_level=CI_LEVEL,
        n_resamples=CI_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(0),
    )
    interval = result.confidence_interval
    return [round(float(interval.low), 6), round(float(interval.high), 6)]


def summarise(sweep: Sweep, study: Any) -> dict[str, Any]:
    """The --json document: study, storage, best, trials, plus the defaults' trial, the paired
    test of the best against it, and the chosen trial's gold figures (reported, not chosen on)."""
    trials, scores = [], {}
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        run = Path(trial.user_attrs["run"]) if "run" in trial.user_attrs else None
        value = trial.value if trial.state.name == "COMPLETE" else None
        per_query = dev_scores(run) if value is not None else {}
        if per_query:
            scores[trial.number] = per_query
        took = None
        if trial.datetime_start and trial.datetime_complete:
            took = round((trial.datetime_complete - trial.datetime_start).total_seconds(), 1)
        trials.append(
            {
                "number": trial.number,
                "state": trial.state.name,
                "params": trial.params,
                "dev_ndcg@10": value,
                "run": _relative(run, sweep.lab),
                "status": trial.user_attrs.get("status", trial.state.name.lower()),
                "error": trial.user_attrs.get("error"),
                "defaults": bool(trial.user_attrs.get("defaults")),
                "duration_s": took,
                "dev_ndcg@10_ci95": (
                    confidence_interval(np.array(list(per_query.values()))) if per_query else None
                ),
            }
        )
    best = best_trial(study)
    defaults = next((t for t in trials if t["defaults"] and t["state"] == "COMPLETE"), None)
    document: dict[str, Any] = {
        "study": sweep.study_name,
        "storage": sweep.storage_shown,
        "best": None,
        "trials": trials,
        "experiment": os.path.relpath(sweep.script, sweep.lab),
        "objective": "dev ndcg@10 (metrics.json dev.ndcg@10), maximised; gold never read to choose",
        "defaults_trial": defaults["number"] if defaults else None,
        "ci": f"{CI_LEVEL:.0%} percentile bootstrap of the mean dev ndcg@10 over queries "
        f"({CI_RESAMPLES} seeded resamples)",
    }
    if best is not None:
        run = Path(best.user_attrs["run"]) if "run" in best.user_attrs else None
        document["best"] = {
            "number": best.number,
            "run": _relative(run, sweep.lab),
            "params": best.params,
            "dev_ndcg@10": best.value,
            "gold": _gold(run),  # reported for the chosen trial only
            "command": _command(run),
        }
        document["significance"] = significance(best.number, defaults, scores)
    return document


def significance(
    best: int, defaults: dict[str, Any] | None, scores: dict[int, dict[str, float]]
) -> dict[str, Any]:
    """The best trial against the defaults' trial on dev: the lab's paired randomisation test,
    Holm-corrected for every completed trial compared with the defaults, and a plain sentence."""
    if defaults is None:
        return {
            "summary": "the defaults' trial has not completed: nothing to compare the best with",
            "significant": None,
        }
    base = defaults["number"]
    if best == base:
        return {
            "defaults": base,
            "significant": None,
            "summary": (f"the defaults' trial {base} is the best on dev: keep the defaults"),
        }
    if base not in scores or best not in scores:
        return {
            "defaults": base,
            "significant": None,
            "summary": (
                "no per-query dev scores (eval/dev_per_query.csv) to test the best against the "
                "defaults"
            ),
        }
    from embed_lab.template import load_significance

    test = load_significance()
    queries = [query for query in scores[base] if all(query in s for s in scores.values())]
    arrays = {f"trial {n}": np.array([s[q] for q in queries]) for n, s in scores.items()}
    choice = test.choose(arrays, default=f"trial {base}")
    name = f"trial {best}"
    p_holm = choice.p_holm[name]
    significant = bool(p_holm < choice.alpha)
    gain = choice.dev[name] - choice.dev[f"trial {base}"]
    if significant:
        sentence = (
            f"trial {best} beats the defaults' trial {base} on dev by {gain:+.4f} "
            f"beyond noise (Holm-corrected p = {p_holm:.4f} < {choice.alpha})"
        )
    else:
        sentence = (
            f"trial {best} is best on dev by {gain:+.4f} but NOT significantly better "
            f"than the defaults' trial {base} (Holm-corrected p = {p_holm:.4f} over "
            f"{len(arrays) - 1} trials, {len(queries)} dev queries): a tie, so the "
            "defaults stay the defaults"
        )
    warning = test.warning(choice)
    return {
        "defaults": base,
        "best": best,
        "significant": significant,
        "p_value": round(choice.p_value[name], 6),
        "p_holm": round(p_holm, 6),
        "alpha": choice.alpha,
        "queries": len(queries),
        "detectable": choice.record()["detectable"],
        "test": choice.test,
        "summary": sentence,
        **({"warning": warning} if warning else {}),
    }


def _relative(run: Path | None, lab: Path) -> str | None:
    if run is None:
        return None
    return os.path.relpath(run, lab.resolve()) if run.is_relative_to(lab.resolve()) else str(run)


def _gold(run: Path | None) -> dict[str, float] | None:
    import json

    try:
        metrics = json.loads((run / "eval" / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None
    return {
        system: metrics[system]["ndcg@10"]
        for system in ("before", "after", "bm25", "hybrid")
        if isinstance(metrics.get(system), dict)
    }


def _command(run: Path | None) -> str | None:
    from embed_lab.runs.store import RunsError, load_run
    from embed_lab.runs.table import reproduce_command

    if run is None:
        return None
    try:
        return reproduce_command(load_run(run))
    except RunsError:
        return None
