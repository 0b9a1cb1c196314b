"""`emb compare`: metrics side by side, the config keys that differ, and whether a gain is real.

The significance test is a paired randomisation (permutation) test over per-query ndcg@10 of the
runs' fine-tuned models ("after" rows of eval/per_query.csv, matched by query_id): under the null
hypothesis either run is as likely to have produced each query's score, so the sign of each
per-query difference is flipped at random (scipy.stats.permutation_test, permutation_type
"samples", two-sided, 10,000 resamples, exact when there are fewer sign patterns than that).
It is the lab's own test (inventory/significance.py), the one every choice on dev is made by.

Runs whose gold was scored with different relevance (graded or binary, metrics.json "relevance")
are shown with a warning, and never paired: their figures measure different things.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from embed_lab.runs.store import RunRecord, data_hash, layout, per_query
from embed_lab.template import load_retrieval, load_significance

TOP = 5
IGNORED = {
    "run_id",
    "started",
    "ended",
    "duration_s",
    "phases_s",
    "metrics",
    "artifacts",
    "command",
    "error",
    "process",
    "heartbeat",
    "phase",
}
TEST_NAME = "paired randomisation test over per-query ndcg@10 (after), two-sided"
CI = "95 % percentile bootstrap of the mean difference over queries (2,000 seeded resamples)"
REFERENCES = ("before", "bm25", "hybrid")  # zero-shot, BM25 and the hybrid: beside every run


@dataclass(frozen=True)
class Paired:
    baseline: str
    other: str
    queries: int
    mean_difference: float
    ci95: tuple[float, float] | None  # percentile bootstrap of the mean difference
    p_value: float
    wins: int
    losses: int
    ties: int
    won: list[tuple[str, float, float]]  # (query id, baseline score, other score), best first
    lost: list[tuple[str, float, float]]


def systems(runs: list[RunRecord]) -> list[str]:
    """The scored systems of the runs' metrics, in the order they first appear."""
    found: dict[str, None] = {}
    for run in runs:
        found.update(dict.fromkeys(layout.scored_systems(run.manifest.get("metrics") or {})))
    return list(found)


def metric_names(runs: list[RunRecord]) -> list[str]:
    names: dict[str, None] = {}
    for run in runs:
        for system in systems([run]):
            names.update(dict.fromkeys((run.manifest.get("metrics") or {}).get(system, {})))
    return list(names)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat |= flatten(item, f"{prefix}{key}.")
        return flat
    return {prefix.rstrip("."): value}


def config_differences(runs: list[RunRecord]) -> dict[str, list[Any]]:
    """{dotted key: [value per run]} for the recorded settings that are not the same everywhere;
    a setting missing or empty (None, "", [], {}) in every run is left out."""
    flats = [flatten({k: v for k, v in run.manifest.items() if k not in IGNORED}) for run in runs]
    keys = sorted({key for flat in flats for key in flat})
    return {
        key: [flat.get(key) for flat in flats]
        for key in keys
        if len({repr(_unset_if_empty(flat.get(key))) for flat in flats}) > 1
    }


def _unset_if_empty(value: Any) -> Any:
    return None if value in ("", [], {}, ()) else value


def relevance(run: RunRecord) -> str | None:
    """How the run's gold was scored ("graded, relevant at grade >= 1" or "binary"); runs from
    before it was recorded were scored binary; None for a run without metrics."""
    metrics = run.manifest.get("metrics")
    if not isinstance(metrics, dict):
        return None
    if metrics.get("relevance") == "graded":
        return f"graded, relevant at grade >= {metrics.get('relevance_threshold', 1)}"
    return "binary"


def relevance_warning(runs: list[RunRecord]) -> str | None:
    """A warning when the runs' gold figures were scored with different relevance."""
    scored = {run.label: relevance(run) for run in runs if relevance(run) is not None}
    if len(set(scored.values())) < 2:
        return None
    listed = "; ".join(f"{label}: {how}" for label, how in scored.items())
    return (f"warning: these runs scored gold with different relevance ({listed}); their "
            "figures are not comparable, and runs scored differently are not paired")  # fmt: skip


def paired_test(baseline: RunRecord, other: RunRecord) -> Paired | str:
    """The paired test of `other` against `baseline`, or why it cannot be run."""
    if baseline.data_sha256("gold") != other.data_sha256("gold"):
        return f"{other.label}: no paired test, its gold set differs from {baseline.label}'s"
    kinds = {relevance(baseline), relevance(other)}
    if None not in kinds and len(kinds) > 1:  # a run without metrics fails on its scores below
        return (f"{other.label}: no paired test, its gold relevance ({relevance(other)}) "
                f"differs from {baseline.label}'s ({relevance(baseline)})")  # fmt: skip
    scores = [per_query(run) for run in (baseline, other)]
    lacking = [_with_state(run) for run, s in zip((baseline, other), scores, strict=True) if not s]
    if lacking:
        return (f"{other.label}: the significance test needs per-query scores "
                f"(eval/per_query.csv), missing in {', '.join(lacking)}")  # fmt: skip
    common = sorted(set(scores[0]) & set(scores[1]))
    if len(common) < 2:
        return f"{other.label}: fewer than 2 queries in common with {baseline.label}"
    import numpy as np

    a = np.array([scores[0][q] for q in common])
    b = np.array([scores[1][q] for q in common])
    p_value = load_significance().paired_p_value(b, a)
    differences = b - a
    interval = mean_interval(differences)
    order = np.argsort(differences, kind="stable")
    rows = [(common[i], float(a[i]), float(b[i])) for i in order]
    return Paired(
        baseline=baseline.label,
        other=other.label,
        queries=len(common),
        mean_difference=float(differences.mean()),
        ci95=interval,
        p_value=p_value,
        wins=int((differences > 0).sum()),
        losses=int((differences < 0).sum()),
        ties=int((differences == 0).sum()),
        won=[row for row in reversed(rows) if row[2] > row[1]][:TOP],
        lost=[row for row in rows if row[2] < row[1]][:TOP],
    )


def mean_interval(differences: Any) -> tuple[float, float] | None:
    """The 95 % percentile bootstrap interval of the mean difference (2,000 seeded resamples)."""
    import numpy as np

    if len(differences) < 2 or np.all(differences == differences[0]):
        return None if len(differences) < 2 else (float(differences[0]),) * 2
    from scipy.stats import bootstrap

    result = bootstrap((differences,), np.mean, confidence_level=0.95, n_resamples=2000,
                       method="percentile", rng=np.random.default_rng(0))  # fmt: skip
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def query_texts(run: RunRecord) -> dict[str, str]:
    """{query id: query text} of the run's gold file, when it is still the file the run scored
    (its sha256 matches); ids as the lab makes them (inventory/retrieval.py's query_ids)."""
    recorded = (run.manifest.get("data") or {}).get("gold") or {}
    path = Path(str(recorded.get("path", "")))
    if not path.is_file() or data_hash(path) != recorded.get("sha256"):
        return {}
    queries: list[str] = []
    with path.open(encoding="utf-8-sig") as file:
        for line in file:
            try:
                query = json.loads(line)["query"] if line.strip() else None
            except (ValueError, KeyError, TypeError):
                return {}  # not a file the lab could have scored: no texts rather than wrong ones
            if isinstance(query, str):
                queries.append(query)
    return dict(zip(load_retrieval().query_ids(queries, "gold"), queries, strict=True))


def evidence(runs: list[RunRecord]) -> dict[str, Any]:
    """What `emb compare` shows, as one document: `--json` prints it, `--html` draws it."""
    tests: list[dict[str, Any]] = []
    texts = query_texts(runs[0])
    for other in runs[1:]:
        outcome = paired_test(runs[0], other)
        if isinstance(outcome, str):
            tests.append({"baseline": runs[0].label, "other": other.label, "note": outcome})
            continue
        test = asdict(outcome)
        test["significant"] = outcome.p_value < 0.05
        for side in ("won", "lost"):
            test[side] = [
                {"query_id": q, "query": texts.get(q), "baseline": x, "other": y}
                for q, x, y in getattr(outcome, side)
            ]
        tests.append(test)
    return {
        "runs": [
            {
                "label": run.label,
                "path": str(run.dir),
                "status": run.state.describe(),
                "error": run.manifest.get("error"),
                "relevance": relevance(run),
                "metrics": {
                    system: {
                        name: run.metric(system, name)
                        for name in metric_names(runs)
                        if run.metric(system, name) is not None
                    }
                    for system in systems([run])
                },
                "dev_ndcg@10": (run.manifest.get("metrics") or {}).get("dev", {}).get("ndcg@10"),
            }
            for run in runs
        ],
        "relevance_warning": relevance_warning(runs),
        "settings_differ": config_differences(runs),
        "baseline": runs[0].label,
        "test": TEST_NAME,
        "alpha": 0.05,
        "ci": CI,
        "tests": tests,
    }


def _with_state(run: RunRecord) -> str:
    """The run's label, with how it ended when it did not complete."""
    state = run.state
    return run.label if state.status == "completed" else f"{run.label} ({state.describe()})"


def render(runs: list[RunRecord], console: Console) -> None:
    warning = relevance_warning(runs)
    if warning:
        console.print(warning, style="bold yellow", markup=False)
    for run in runs:
        if run.state.status != "completed":  # a dead or failed run has no final metrics
            error = run.manifest.get("error")
            console.print(f"{run.label}: {run.state.describe()}{f': {error}' if error else ''}",
                          markup=False)  # fmt: skip
    metrics = Table(title="Gold metrics", title_justify="left")
    metrics.add_column("system")
    metrics.add_column("metric")
    for run in runs:
        metrics.add_column(run.label, justify="right", overflow="fold")
    metrics.add_row("relevance", "", *(relevance(run) or "–" for run in runs))
    for system in systems(runs):
        for name in metric_names(runs):
            values = [run.metric(system, name) for run in runs]
            if all(value is None for value in values):
                continue
            metrics.add_row(system, name, *("–" if v is None else f"{v:.4f}" for v in values))
    console.print(metrics)

    differences = config_differences(runs)
    if differences:
        table = Table(title="Settings that differ", title_justify="left")
        table.add_column("key", overflow="fold")
        for run in runs:
            table.add_column(run.label, overflow="fold")
        for key, values in differences.items():
            table.add_row(key, *("–" if value is None else str(value) for value in values))
        console.print(table)
    else:
        console.print("Settings that differ: none")

    console.print(f"\n[bold]Significance[/] ({TEST_NAME}; baseline {runs[0].label})")
    texts = query_texts(runs[0])
    for other in runs[1:]:
        outcome = paired_test(runs[0], other)
        if isinstance(outcome, str):
            console.print(outcome, markup=False)
            continue
        verdict = "significant at 0.05" if outcome.p_value < 0.05 else "not significant at 0.05"
        console.print(
            f"{outcome.other}: mean Δ ndcg@10 {outcome.mean_difference:+.4f}{_interval(outcome)}"
            f" over {outcome.queries} queries, p = {outcome.p_value:.4f} ({verdict}); "
            f"{outcome.wins} won, {outcome.losses} lost, {outcome.ties} tied",
            markup=False,
        )
        for title, rows in (("won most", outcome.won), ("lost most", outcome.lost)):
            if rows:
                listed = ", ".join(f"{q}{_quoted(texts.get(q))} {x:.3f}→{y:.3f}"
                                   for q, x, y in rows)  # fmt: skip
                console.print(f"  {title}: {listed}", markup=False)


def _interval(outcome: Paired) -> str:
    if outcome.ci95 is None:
        return ""
    return f" (95 % CI {outcome.ci95[0]:+.4f} to {outcome.ci95[1]:+.4f})"


def _quoted(text: str | None, width: int = 60) -> str:
    if text is None:
        return ""
    return f' "{text if len(text) <= width else text[: width - 1] + "…"}"'
