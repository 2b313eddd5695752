"""Tail probabilities and quantiles of t, F, chi-squared and normal, for scalars.

The same special functions scipy.stats calls (stdtr, stdtrit, fdtrc, chdtrc, ndtr), with the
same answers outside the support, without importing scipy.stats: that loads every
distribution scipy has and took longer than the rest of an analysis of 10,000 rows.
"""

from __future__ import annotations

import math

from scipy import special


def t_two_sided_p(statistic: float, df: float) -> float:
    """P(|T| >= |statistic|) for Student's t with df degrees of freedom."""
    if math.isnan(statistic) or not df > 0:
        return math.nan
    return float(2 * special.stdtr(df, -abs(statistic)))


def t_quantile(q: float, df: float) -> float:
    """The q quantile of Student's t with df degrees of freedom."""
    if not 0 <= q <= 1 or not df > 0:
        return math.nan
    return float(special.stdtrit(df, q))


def f_sf(statistic: float, df_num: float, df_den: float) -> float:
    """P(F >= statistic) for the F distribution with (df_num, df_den) degrees of freedom."""
    if math.isnan(statistic) or not (df_num > 0 and df_den > 0):
        return math.nan
    if statistic <= 0:
        return 1.0
    return float(special.fdtrc(df_num, df_den, statistic))


def chi2_sf(statistic: float, df: float) -> float:
    """P(X >= statistic) for chi-squared with df degrees of freedom."""
    if math.isnan(statistic) or not df > 0:
        return math.nan
    if statistic <= 0:
        return 1.0
    return float(special.chdtrc(df, statistic))


def normal_two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    if math.isnan(z):
        return math.nan
    return float(2 * special.ndtr(-abs(z)))
