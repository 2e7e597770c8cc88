"""Goodness of fit for draw counts: Pearson's chi-square against expected shares.

The p-value for 3 degrees of freedom (four exam domains) has a closed form, so no statistics
package is needed: P(X > x) = 2 (1 - Phi(sqrt x)) + sqrt(2x / pi) exp(-x / 2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def chi_square(observed: Mapping[int, int], shares: Mapping[int, float]) -> float:
    """Pearson's statistic of ``observed`` counts against ``shares`` (summing to 1)."""
    n = sum(observed.values())
    return sum((observed.get(k, 0) - n * p) ** 2 / (n * p) for k, p in shares.items())


def p_value_df3(statistic: float) -> float:
    """P(chi-square with 3 degrees of freedom > ``statistic``)."""
    root = math.sqrt(statistic)
    tail = 1 - 0.5 * (1 + math.erf(root / math.sqrt(2)))
    return 2 * tail + math.sqrt(2 * statistic / math.pi) * math.exp(-statistic / 2)
