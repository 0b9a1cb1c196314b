"""Is a difference on dev real? The one rule behind every choice the lab makes on dev.

A candidate setting replaces the default only when it beats the default on dev by more than
noise: a paired randomisation test over per-query scores (the sign of each query's difference
flipped at random; scipy's `permutation_test`, two-sided, exact up to 13 queries, else 10,000
random flips with a fixed seed), with Holm's correction for the number of candidates tried, at
ALPHA = 0.05. Among the candidates that pass, the best on dev wins; when none passes, the
default stays, however the mean scores happen to fall. `emb compare` runs the same test.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

ALPHA = 0.05  # family-wise error rate over the candidates of one choice
RESAMPLES = 10_000
POWER = 0.8  # for the smallest difference a dev split can detect
TEST = "paired randomisation test over per-query dev scores, two-sided, Holm-corrected"


def paired_p_value(candidate: np.ndarray, baseline: np.ndarray) -> float:
    """Two-sided p-value that `candidate` and `baseline` (scores of the same queries) differ."""
    if len(candidate) < 2 or np.array_equal(candidate, baseline):
        return 1.0
    from scipy.stats import permutation_test  # scipy.stats loads slowly; --help stays fast

    result = permutation_test(
        (candidate, baseline),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=RESAMPLES,
        alternative="two-sided",
        rng=np.random.default_rng(0),
    )
    return float(result.pvalue)


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjusted p-values (family-wise error rate over all of them)."""
    adjusted: dict[str, float] = {}
    running = 0.0
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    for position, (name, p_value) in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - position) * p_value))
        adjusted[name] = running
    return adjusted


def detectable_difference(differences: np.ndarray, candidates: int, alpha: float = ALPHA) -> float:
    """The smallest mean difference the test finds with 80 % power (normal approximation, at the
    first Holm step's level alpha / candidates); infinite where even a difference on every query
    could not count (the exact test's smallest p-value, 2 / 2**queries, is above that level)."""
    queries = differences.shape[-1]
    level = alpha / max(candidates, 1)
    if queries < 2 or 2.0 ** (1 - queries) >= level:
        return float("inf")
    from scipy.stats import norm

    spread = float(np.median(np.std(np.atleast_2d(differences), axis=1, ddof=1)))
    z = norm.ppf(1 - level / 2) + norm.ppf(POWER)
    return float(z * spread / np.sqrt(queries))


@dataclass(frozen=True)
class Choice:
    """What was compared on dev, and why the default was kept or replaced."""

    chosen: str
    default: str
    reason: str
    queries: int
    dev: dict[str, float]  # mean score on dev of every candidate, the default included
    p_value: dict[str, float]  # each candidate against the default, as tested
    p_holm: dict[str, float]  # the same, corrected for the number of candidates
    detectable: float  # the smallest mean difference this dev split could detect
    alpha: float = ALPHA
    test: str = TEST

    def record(self) -> dict:
        """For metrics.json and the manifest: numbers rounded to what they can tell."""
        record = asdict(self)
        for key in ("dev", "p_value", "p_holm"):
            record[key] = {name: round(value, 6) for name, value in record[key].items()}
        record["detectable"] = None if np.isinf(self.detectable) else round(self.detectable, 6)
        return record


def choose(scores: dict[str, np.ndarray], default: str, alpha: float = ALPHA) -> Choice:
    """Keep `default` unless a candidate beats it significantly on dev; `scores` holds each
    setting's per-query dev scores (the default's among them), the same queries in each."""
    base = scores[default]
    others = [name for name in scores if name != default]
    dev = {name: float(np.mean(values)) for name, values in scores.items()}
    p_value = {name: paired_p_value(scores[name], base) for name in others}
    p_holm = holm(p_value)
    detectable = (
        detectable_difference(np.array([scores[name] - base for name in others]), len(others))
        if others
        else 0.0
    )
    winners = [name for name in others if p_holm[name] < alpha and dev[name] > dev[default]]
    if winners:
        chosen = max(winners, key=lambda name: dev[name])
        reason = (
            f"{chosen} beats {default} on dev by {dev[chosen] - dev[default]:+.4f} "
            f"(Holm-corrected p = {p_holm[chosen]:.4f} < {alpha})"
        )
    else:
        chosen = default
        best = max(others, key=lambda name: dev[name], default=default)
        reason = (
            f"no candidate beats {default} on dev beyond noise"
            + (
                f" (best: {best} {dev[best] - dev[default]:+.4f}, "
                f"Holm-corrected p = {p_holm[best]:.4f})"
                if best != default
                else ""
            )
            + "; the default is kept"
        )
    return Choice(chosen, default, reason, len(base), dev, p_value, p_holm, detectable, alpha)


def warning(choice: Choice, metric: str = "ndcg@10") -> str | None:
    """One line when dev is too small to choose anything, naming what it could detect."""
    if choice.queries >= 20 and choice.detectable <= 0.05:
        return None
    if np.isinf(choice.detectable):
        could = "no difference could count"
    else:
        could = f"only a difference above {choice.detectable:.3f} {metric} could count"
    return f"warning: dev has {choice.queries} queries; {could}, so the defaults mostly stay"
