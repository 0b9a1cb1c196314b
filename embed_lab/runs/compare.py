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

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from embed_lab.runs.store import RunRecord, layout, per_query
from embed_lab.template import load_significance

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


@dataclass(frozen=True)
class Paired:
    baseline: str
    other: str
    queries: int
    mean_difference: float
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
    """{dotted key: [value per run]} for the recorded settings that are not the same everywhere."""
    flats = [flatten({k: v for k, v in run.manifest.items() if k not in IGNORED}) for run in runs]
    keys = sorted({key for flat in flats for key in flat})
    missing = object()
    return {
        key: [flat.get(key) for flat in flats]
        for key in keys
        if len({repr(flat.get(key, missing)) for flat in flats}) > 1
    }


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
    order = np.argsort(differences, kind="stable")
    rows = [(common[i], float(a[i]), float(b[i])) for i in order]
    return Paired(
        baseline=baseline.label,
        other=other.label,
        queries=len(common),
        mean_difference=float(differences.mean()),
        p_value=p_value,
        wins=int((differences > 0).sum()),
        losses=int((differences < 0).sum()),
        ties=int((differences == 0).sum()),
        won=[row for row in reversed(rows) if row[2] > row[1]][:TOP],
        lost=[row for row in rows if row[2] < row[1]][:TOP],
    )


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
    for other in runs[1:]:
        outcome = paired_test(runs[0], other)
        if isinstance(outcome, str):
            console.print(outcome, markup=False)
            continue
        verdict = "significant at 0.05" if outcome.p_value < 0.05 else "not significant at 0.05"
        console.print(
            f"{outcome.other}: mean Δ ndcg@10 {outcome.mean_difference:+.4f} over "
            f"{outcome.queries} queries, p = {outcome.p_value:.4f} ({verdict}); "
            f"{outcome.wins} won, {outcome.losses} lost, {outcome.ties} tied",
            markup=False,
        )
        for title, rows in (("won most", outcome.won), ("lost most", outcome.lost)):
            if rows:
                listed = ", ".join(f"{q} {x:.3f}→{y:.3f}" for q, x, y in rows)
                console.print(f"  {title}: {listed}", markup=False)
