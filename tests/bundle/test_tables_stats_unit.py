"""Fast unit tests of the statistics of bundle tables: Student's t quantile, confidence intervals,
the precision rule, and how replicated tables render. Expected values are written out, taken from
printed t tables or worked by hand, never computed by the code under test."""

from __future__ import annotations

import math
from typing import Any

import pytest

from manifest.bundle.tables import Summary, decimals, format_summary, render_markdown, results_table, summarize, t_critical


def run(name: str, metrics: dict[str, Any], **params: Any) -> dict[str, Any]:
    return {"name": name, "params": params, "metrics": {k: {"value": v} for k, v in metrics.items()}}


# --------------------------------------------------------------------------- Student's t


@pytest.mark.parametrize(("df", "expected"), [
    (1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (9, 2.262), (29, 2.045), (100, 1.984), (1000, 1.962),
    (5000, 1.960),  # beyond the exact series: the Cornish-Fisher expansion
])
def test_t_critical_95_matches_the_printed_table(df, expected):
    assert round(t_critical(df), 3) == expected


@pytest.mark.parametrize(("df", "confidence", "expected"), [(4, 0.99, 4.604), (9, 0.90, 1.833), (1, 0.90, 6.314), (30, 0.99, 2.750)])
def test_t_critical_other_levels(df, confidence, expected):
    assert round(t_critical(df, confidence), 3) == expected


def test_t_critical_closed_forms():
    """df 1 is Cauchy, t = tan(πc/2); df 2 has t = c·√(2/(1−c²)): exact to the bisection's tolerance."""
    assert t_critical(1) == pytest.approx(math.tan(0.95 * math.pi / 2), rel=1e-10)
    assert t_critical(2) == pytest.approx(0.95 * math.sqrt(2 / (1 - 0.95**2)), rel=1e-10)


def test_t_critical_is_continuous_where_the_method_changes_and_decreases_with_df():
    values = [t_critical(df) for df in (1, 2, 5, 30, 999, 1000, 1001, 10**6)]
    assert values == sorted(values, reverse=True)
    # the step from df 1000 (exact) to 1001 (expansion) is the slope (z³+z)/(4ν²) + 2·g2/ν³ ≈ 2.3699e-6 + 0.0056e-6
    assert t_critical(1000) - t_critical(1001) == pytest.approx(2.3755e-6, abs=2e-9)
    assert t_critical(10**6) == pytest.approx(1.959966, abs=1e-6)  # the normal quantile 1.959964 + 1/(4·10^6)·(z³+z)


@pytest.mark.parametrize(("df", "confidence"), [(0, 0.95), (3, 1.0), (3, 0.0)])
def test_t_critical_refuses_what_has_no_quantile(df, confidence):
    with pytest.raises(ValueError, match="t_critical needs"):
        t_critical(df, confidence)


def test_t_critical_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in [*range(1, 61), 120, 500, 1000, 1001, 3000, 10**5]:
        for c in (0.8, 0.95, 0.999):
            assert t_critical(df, c) == pytest.approx(stats.t.ppf((1 + c) / 2, df), rel=1e-9), (df, c)


# --------------------------------------------------------------------------- intervals


def test_interval_of_a_small_sample():
    """[0.9, 1.0, 0.95, 0.97]: mean 0.955; squares of deviations 0.0053, variance 0.0053/3, sd 0.042032;
    standard error 0.021016; t(0.975, 3) = 3.182446, half-width 0.066882: [0.888118, 1.021882]."""
    s = summarize([0.9, 1.0, 0.95, 0.97])
    assert (s.n, s.mean, s.sd) == (4, pytest.approx(0.955), pytest.approx(0.042032, abs=1e-6))
    assert s.ci == (pytest.approx(0.888118, abs=1e-6), pytest.approx(1.021882, abs=1e-6))
    assert format_summary(s) == ("0.955 ± 0.042", "[0.888, 1.022]")


def test_two_replicates_use_twelve_point_seven():
    s = summarize([0.9, 0.8])  # sd 0.070711, se 0.05, half-width 12.706205 · 0.05 = 0.635310
    assert s.ci == (pytest.approx(0.214690, abs=1e-6), pytest.approx(1.485310, abs=1e-6))
    assert format_summary(s) == ("0.850 ± 0.071", "[0.215, 1.485]")


def test_one_value_has_no_spread_and_no_interval():
    assert summarize([0.5]) == Summary(1, 0.5)
    assert format_summary(Summary(1, 0.123456)) == ("0.1235 ± —", "—")


# --------------------------------------------------------------------------- precision


@pytest.mark.parametrize(("sd", "expected"), [
    (0.027, 3), (0.0272, 3), (0.0996, 2),  # 0.0996 rounds to 0.10: two decimals, not three
    (0.1, 2), (0.35, 2), (0.00095, 5), (1.5, 1), (9.96, 0), (12.3, 0), (1234.0, 0),  # never fewer than no decimals
    (0.0, None), (math.nan, None), (math.inf, None), (1e-11, None),
])
def test_decimals_give_the_sd_two_significant_digits(sd, expected):
    assert decimals(sd) == expected


@pytest.mark.parametrize(("summary", "expected"), [
    # the cell: 0.9667 ± 0.027 mixed precisions; the sample [1, 0.9667, 0.9333, 0.9667]
    (Summary(4, 0.966675, 0.027230, (0.923346, 1.010004)), ("0.967 ± 0.027", "[0.923, 1.010]")),
    (Summary(3, 0.6, 0.1, (0.351586, 0.848414)), ("0.60 ± 0.10", "[0.35, 0.85]")),
    (Summary(2, -0.0001, 0.5, (-1.0, 1.0)), ("0.00 ± 0.50", "[-1.00, 1.00]")),  # no "-0.00"
    (Summary(2, 1234.6, 123.4, (100.0, 2369.2)), ("1235 ± 123", "[100, 2369]")),
    (Summary(2, 0.5, 0.0, (0.5, 0.5)), ("0.5 ± 0", "[0.5, 0.5]")),  # no spread: four significant digits
    (Summary(2, 0.123456789, 1e-12, (0.1234, 0.1235)), ("0.1235 ± 1e-12", "[0.1234, 0.1235]")),
    (Summary(2, math.nan, math.nan, (math.nan, math.nan)), ("nan ± nan", "[nan, nan]")),
])
def test_mean_sd_and_bounds_share_the_decimals(summary, expected):
    assert format_summary(summary) == expected


# --------------------------------------------------------------------------- replicated tables


def test_replicated_markdown_has_n_and_ci_columns_and_says_what_they_are():
    docs = [
        run("rf-10", {"acc": 0.9}, n_estimators=10, seed=1),
        run("rf-10", {"acc": 1.0}, n_estimators=10, seed=2),
        run("rf-10", {"acc": 0.95}, n_estimators=10, seed=3),
        run("rf-10", {"acc": 0.97}, n_estimators=10, seed=4),
        run("rf-100", {"acc": 0.966667}, n_estimators=100, seed=1),
    ]
    assert render_markdown(results_table(docs, ["acc"])) == (
        "| run | n_estimators | n | acc | acc 95% CI |\n"
        "|---|---|---|---|---|\n"
        "| rf-10 (+3 replicates) | 10 | 4 | 0.955 ± 0.042 | [0.888, 1.022] |\n"
        "| rf-100 | 100 | 1 | 0.9667 ± — | — |\n"
        "\n"
        "Runs that differ only in seed are replicates: mean ± sample standard deviation over n runs.\n"
        "\n"
        "95% CI: confidence interval of the mean, Student's t with n − 1 degrees of freedom (— where n < 2). "
        "Decimals follow the standard deviation (2 significant digits); single values show 4.\n"
    )


def test_a_metric_missing_in_some_replicates_has_its_own_n():
    docs = [run("a", {"acc": 0.9, "f1": 0.8}, seed=1), run("b", {"acc": 0.8, "f1": 0.7}, seed=2), run("c", {"acc": 0.7}, seed=3)]
    row = results_table(docs, ["acc", "f1"])["rows"][0]
    assert row["n"] == 3 and row["metrics"] == {"acc": "0.80 ± 0.10", "f1": "0.750 ± 0.071 (n=2)"}
    assert row["ci"] == {"acc": "[0.55, 1.05]", "f1": "[0.115, 1.385]"}  # 0.8 ± 4.303 · 0.1/√3; 0.75 ± 12.706 · 0.05
