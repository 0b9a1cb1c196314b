import numpy as np
import pytest

from inventory.significance import choose, holm, paired_p_value, warning

RNG = np.random.default_rng(7)
DEFAULT = RNG.uniform(0.2, 0.8, 200)  # per-query dev ndcg@10 of the default setting


def test_a_clear_win_replaces_the_default() -> None:
    better = np.clip(DEFAULT + 0.1, 0, 1)
    choice = choose({"default": DEFAULT, "better": better, "same": DEFAULT.copy()}, "default")
    assert choice.chosen == "better" and choice.p_holm["better"] < 0.05
    assert "beats default" in choice.reason and choice.queries == 200


def test_noise_does_not_replace_the_default() -> None:
    noisy = {f"w{i}": DEFAULT + RNG.normal(0, 0.05, 200) for i in range(10)}
    best = max(noisy, key=lambda name: noisy[name].mean())
    assert noisy[best].mean() > DEFAULT.mean()  # the arg-max would have switched
    choice = choose({"default": DEFAULT, **noisy}, "default")
    assert choice.chosen == "default" and "the default is kept" in choice.reason
    assert choice.dev[best] == pytest.approx(noisy[best].mean())


def test_a_tie_keeps_the_default_and_a_significant_loss_is_never_chosen() -> None:
    worse = DEFAULT - 0.1
    choice = choose({"tie": DEFAULT.copy(), "default": DEFAULT, "worse": worse}, "default")
    assert choice.chosen == "default" and choice.p_value["tie"] == 1.0
    assert choice.p_value["worse"] < 0.05  # significant, but the wrong way


def test_holm_adjusts_step_down_and_stays_monotone() -> None:
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adjusted == pytest.approx({"a": 0.03, "c": 0.06, "b": 0.06})


def test_the_paired_test_is_exact_on_few_queries() -> None:
    # 4 queries all better by the same amount: 2 of 16 sign patterns are as extreme.
    assert paired_p_value(np.ones(4), np.zeros(4)) == pytest.approx(2 / 16)


def test_a_small_dev_split_warns_with_the_difference_it_could_detect() -> None:
    small = choose({"default": DEFAULT[:8], "other": DEFAULT[:8] + RNG.normal(0, 0.1, 8)},
                   "default")  # fmt: skip
    line = warning(small)
    assert line is not None and "dev has 8 queries; only a difference above 0." in line
    tiny = choose({"default": DEFAULT[:3], "other": DEFAULT[:3] + 0.5}, "default")
    assert tiny.record()["detectable"] is None and "no difference could count" in warning(tiny)
    assert warning(choose({"default": DEFAULT, "same": DEFAULT + 0.001}, "default")) is None
