"""Streaming ensemble statistics: memory independent of the number of trajectories.

Trajectories arrive in blocks of shape (B, m) (m = flattened cells such as
time × species). Each cell is reduced sequentially in trajectory order, in
parallel over cells, so the statistics are bit-identical whatever the block
size or thread count.

- Mean and variance: Welford's update (count, mean, M2 per cell).
- Quantiles: the P² algorithm of Jain & Chlamtac (1985, Commun. ACM 28,
  1076): five markers per cell and quantile, adjusted with piecewise-parabolic
  interpolation — an estimate whose error shrinks with the number of
  trajectories; with five or fewer observations the markers hold the sorted
  data and the quantile is exact.
"""
from __future__ import annotations

import numpy as np

from .._jit import njit, prange

P2_MARKERS = 5


@njit(parallel=True)
def welford(values, valid, count, mean, m2):
    """Fold ``values`` (B, m) where ``valid`` (B, m) into count (m) int64, mean (m), m2 (m)."""
    for cell in prange(values.shape[1]):
        n = count[cell]
        mu = mean[cell]
        s = m2[cell]
        for b in range(values.shape[0]):
            if not valid[b, cell]:
                continue
            n += 1
            delta = values[b, cell] - mu
            mu += delta / n
            s += delta * (values[b, cell] - mu)
        count[cell] = n
        mean[cell] = mu
        m2[cell] = s


@njit(inline="always")
def _parabolic(q, n, i, d):
    return q[i] + d / (n[i + 1] - n[i - 1]) * (
        (n[i] - n[i - 1] + d) * (q[i + 1] - q[i]) / (n[i + 1] - n[i])
        + (n[i + 1] - n[i] - d) * (q[i] - q[i - 1]) / (n[i] - n[i - 1]))


@njit
def _p2_add(value, seen, p, q, n, desired):
    """Add one observation to the markers (q heights, n positions, desired positions) of quantile p."""
    if seen < P2_MARKERS:
        position = seen
        while position > 0 and q[position - 1] > value:
            q[position] = q[position - 1]
            position -= 1
        q[position] = value
        if seen == P2_MARKERS - 1:
            for i in range(P2_MARKERS):
                n[i] = i + 1.0
            desired[0], desired[1], desired[2], desired[3], desired[4] = (
                1.0, 1.0 + 2.0 * p, 1.0 + 4.0 * p, 3.0 + 2.0 * p, 5.0)
        return
    if value < q[0]:
        q[0] = value
        k = 0
    elif value >= q[4]:
        q[4] = value
        k = 3
    else:
        k = 0
        while value >= q[k + 1]:
            k += 1
    for i in range(k + 1, P2_MARKERS):
        n[i] += 1.0
    desired[1] += 0.5 * p
    desired[2] += p
    desired[3] += 0.5 * (1.0 + p)
    desired[4] += 1.0
    for i in range(1, 4):
        d = desired[i] - n[i]
        if (d >= 1.0 and n[i + 1] - n[i] > 1.0) or (d <= -1.0 and n[i - 1] - n[i] < -1.0):
            step = 1.0 if d > 0 else -1.0
            candidate = _parabolic(q, n, i, step)
            if q[i - 1] < candidate < q[i + 1]:
                q[i] = candidate
            else:
                other = i + int(step)
                q[i] = q[i] + step * (q[other] - q[i]) / (n[other] - n[i])
            n[i] += step


@njit(parallel=True)
def p2_update(values, valid, probabilities, seen, heights, positions, desired):
    """Fold ``values`` (B, m) into P² markers of shape (n_q, m, 5); ``seen`` (m) is this kernel's own count."""
    for cell in prange(values.shape[1]):
        for b in range(values.shape[0]):
            if not valid[b, cell]:
                continue
            for qi in range(probabilities.size):
                _p2_add(values[b, cell], seen[cell], probabilities[qi], heights[qi, cell], positions[qi, cell],
                        desired[qi, cell])
            seen[cell] += 1


def p2_estimates(probabilities, seen, heights):
    """Quantile estimates (n_q, m) from the markers; NaN where a cell saw nothing."""
    out = np.where(seen[None, :] > P2_MARKERS, heights[:, :, 2], np.nan)
    for cell in np.flatnonzero((seen > 0) & (seen <= P2_MARKERS)):
        for qi, p in enumerate(probabilities):
            out[qi, cell] = np.quantile(heights[qi, cell, :seen[cell]], p)
    return out
