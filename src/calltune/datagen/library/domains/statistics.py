"""Statistics: descriptive summaries, percentiles, z-scores, the normal distribution, correlation and regression.

The computations are Python's :mod:`statistics` and numpy's percentile.
"""

from __future__ import annotations

import statistics as st
from collections import Counter
from typing import Literal

import numpy as np

from ....tools import tool
from ._checks import positive
from ._spec import function_spec, number, string

DOMAIN = "statistics"


def _r(x: float) -> float:
    return round(float(x), 6)


def _at_least(n: int, **values: list) -> None:
    for name, v in values.items():
        if len(v) < n:
            raise ValueError(f"{name} needs at least {n} values, got {len(v)}")


def _same_length(x: list[float], y: list[float]) -> None:
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")


@tool
def descriptive_statistics(values: list[float], sample: bool = True) -> dict:
    """Count, mean, median, modes, minimum, maximum, range, variance and standard deviation of a list of numbers.

    Args:
        values: The numbers.
        sample: Treat the numbers as a sample (divide by n - 1) rather than a whole population.
    """
    _at_least(2 if sample else 1, values=values)
    var = st.variance(values) if sample else st.pvariance(values)
    return {
        "count": len(values),
        "mean": _r(st.fmean(values)),
        "median": _r(st.median(values)),
        "modes": st.multimode(values),
        "min": min(values),
        "max": max(values),
        "range": _r(max(values) - min(values)),
        "variance": _r(var),
        "standard_deviation": _r(var**0.5),
    }


@tool
def average_of_values(
    values: list[float],
    kind: Literal["arithmetic", "geometric", "harmonic"] = "arithmetic",
    weights: list[float] | None = None,
) -> dict:
    """An average of a list of numbers: arithmetic (optionally weighted), geometric or harmonic.

    Args:
        values: The numbers; geometric and harmonic means need positive numbers.
        kind: Which mean to compute.
        weights: One weight per value, for a weighted arithmetic mean.
    """
    _at_least(1, values=values)
    if weights is not None:
        if kind != "arithmetic":
            raise ValueError("weights are only supported for the arithmetic mean")
        if len(weights) != len(values) or sum(weights) == 0:
            raise ValueError("weights must have one entry per value and a non-zero sum")
        return {"mean": _r(np.average(values, weights=weights)), "kind": "weighted arithmetic"}
    if kind != "arithmetic" and min(values) <= 0:
        raise ValueError(f"the {kind} mean needs positive values")
    fn = {"arithmetic": st.fmean, "geometric": st.geometric_mean, "harmonic": st.harmonic_mean}[kind]
    return {"mean": _r(fn(values)), "kind": kind}


@tool
def percentile_of_values(
    values: list[float],
    percentile: float,
    method: Literal["linear", "lower", "higher", "nearest", "midpoint"] = "linear",
) -> dict:
    """The value below which a given percentage of the numbers fall.

    Args:
        values: The numbers.
        percentile: Percentage between 0 and 100.
        method: How to interpolate when the percentile falls between two numbers.
    """
    _at_least(1, values=values)
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {percentile}")
    return {"value": _r(np.percentile(values, percentile, method=method)), "percentile": percentile}


@tool
def percentile_rank_in_sample(values: list[float], score: float) -> dict:
    """The percentage of the numbers that are below a given score (ties count half).

    Args:
        values: The reference numbers.
        score: The score to rank.
    """
    _at_least(1, values=values)
    below = sum(v < score for v in values)
    equal = sum(v == score for v in values)
    return {"percentile_rank": _r(100 * (below + equal / 2) / len(values))}


@tool
def z_score(value: float, mean: float, standard_deviation: float) -> dict:
    """How many standard deviations a value lies above or below the mean.

    Args:
        value: The observed value.
        mean: Mean of the distribution.
        standard_deviation: Standard deviation of the distribution.
    """
    positive(standard_deviation=standard_deviation)
    z = (value - mean) / standard_deviation
    return {"z_score": _r(z), "percentile": _r(st.NormalDist().cdf(z) * 100)}


@tool
def standardize_values(values: list[float], sample: bool = True) -> dict:
    """The z-score of every number of a list, from the list's own mean and standard deviation.

    Args:
        values: The numbers.
        sample: Use the sample standard deviation (n - 1) rather than the population one.
    """
    _at_least(2, values=values)
    mean, sd = st.fmean(values), st.stdev(values) if sample else st.pstdev(values)
    if sd == 0:
        raise ValueError("all values are equal: their standard deviation is 0")
    return {"mean": _r(mean), "standard_deviation": _r(sd), "z_scores": [_r((v - mean) / sd) for v in values]}


@tool
def normal_distribution_probability(
    x: float,
    mean: float = 0.0,
    standard_deviation: float = 1.0,
    tail: Literal["below", "above", "between"] = "below",
    upper: float | None = None,
) -> dict:
    """Probability that a normally distributed value falls below, above or between given bounds.

    Args:
        x: The bound (the lower bound for tail between).
        mean: Mean of the distribution.
        standard_deviation: Standard deviation of the distribution.
        tail: Which region's probability to compute.
        upper: Upper bound, required for tail between.
    """
    positive(standard_deviation=standard_deviation)
    dist = st.NormalDist(mean, standard_deviation)
    if tail == "between":
        if upper is None or upper < x:
            raise ValueError("tail between needs an upper bound not below x")
        p = dist.cdf(upper) - dist.cdf(x)
    else:
        p = dist.cdf(x) if tail == "below" else 1 - dist.cdf(x)
    return {"probability": _r(p), "tail": tail}


@tool
def pearson_correlation(x: list[float], y: list[float]) -> dict:
    """Pearson correlation coefficient between two paired lists of numbers, and its strength in words.

    Args:
        x: The first variable's values.
        y: The second variable's values, paired with x.
    """
    _same_length(x, y)
    _at_least(2, x=x)
    try:
        r = st.correlation(x, y)
    except st.StatisticsError as e:
        raise ValueError(f"correlation is undefined: {e}") from e
    strength = "strong" if abs(r) >= 0.7 else "moderate" if abs(r) >= 0.4 else "weak"
    return {"r": _r(r), "r_squared": _r(r * r), "strength": strength}


@tool
def fit_regression_line(x: list[float], y: list[float], predict_at: list[float] | None = None) -> dict:
    """Least-squares straight line through paired data, optionally predicting y at new x values.

    Args:
        x: The independent variable's values.
        y: The dependent variable's values, paired with x.
        predict_at: New x values to predict y for.
    """
    _same_length(x, y)
    _at_least(2, x=x)
    try:
        fit = st.linear_regression(x, y)
    except st.StatisticsError as e:
        raise ValueError(f"no regression line: {e}") from e
    out: dict = {"slope": _r(fit.slope), "intercept": _r(fit.intercept)}
    if predict_at:
        out["predictions"] = [{"x": v, "y": _r(fit.slope * v + fit.intercept)} for v in predict_at]
    return out


@tool
def moving_average(
    values: list[float], window: int, kind: Literal["simple", "exponential"] = "simple"
) -> dict:
    """Smooth a series with a simple moving average over a window, or an exponential one of the same span.

    Args:
        values: The series, oldest first.
        window: Number of points averaged (the span for the exponential kind).
        kind: Which moving average.
    """
    positive(window=window)
    _at_least(window, values=values)
    if kind == "simple":
        sums = np.convolve(values, np.ones(window) / window, mode="valid")
        return {"averages": [_r(v) for v in sums], "kind": kind}
    alpha, avg, out = 2 / (window + 1), values[0], []
    for v in values:
        avg = alpha * v + (1 - alpha) * avg
        out.append(_r(avg))
    return {"averages": out, "kind": kind}


@tool
def frequency_table(items: list[str], sort_by: Literal["count", "value"] = "count") -> dict:
    """How often each distinct item occurs in a list, with its share of the total in percent.

    Args:
        items: The observations, one per entry.
        sort_by: Order rows by descending count or by the item itself.
    """
    _at_least(1, items=items)
    counts = Counter(items)
    rows = counts.most_common() if sort_by == "count" else sorted(counts.items())
    return {"rows": [{"item": k, "count": n, "percent": _r(100 * n / len(items))} for k, n in rows]}


TOOLS = [
    descriptive_statistics,
    average_of_values,
    percentile_of_values,
    percentile_rank_in_sample,
    z_score,
    standardize_values,
    normal_distribution_probability,
    pearson_correlation,
    fit_regression_line,
    moving_average,
    frequency_table,
]

SPECS = [
    function_spec(
        "query_population_figures",
        "Official population figures of a country or region for a year, with the age breakdown.",
        {
            "area": string("Country or region name."),
            "year": number("Census or estimate year.", integer=True),
            "breakdown": string(
                "How to split the total.", enum=["none", "age_groups", "sex", "urban_rural"], default="none"
            ),
        },
        ["area", "year"],
    ),
]
