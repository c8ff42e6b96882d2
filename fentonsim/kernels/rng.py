"""Counter-seeded random streams for reproducible parallel ensembles.

Every trajectory draws from its own xoshiro256+ generator (Blackman & Vigna
2018) whose 256-bit state is derived from ``(seed, trajectory index)`` alone
through SplitMix64. A trajectory's numbers therefore do not depend on which
thread runs it, in what order, or how the ensemble is chunked — numba's
``np.random`` keeps one state per thread, which would.

Samplers take the state (uint64 array of 4, modified in place):
``uniform`` in the open interval (0, 1), ``exponential`` (rate 1) and
``poisson`` (multiplication method below mean 10, Hörmann's PTRS
transformed rejection above — the algorithm numpy uses).
"""
from __future__ import annotations

import math

import numpy as np

from .._jit import njit

STATE_WORDS = 4
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STREAM = np.uint64(0xD1B54A32D192ED03)
_S11, _S17, _S27, _S30, _S31, _S45, _S19 = (np.uint64(v) for v in (11, 17, 27, 30, 31, 45, 19))
_TWO_M53 = 2.0 ** -53


@njit(inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit
def seed_stream(seed, index, state):
    """Fill ``state`` (uint64, shape (4,)) for trajectory ``index`` of ``seed`` (both ≥ 0)."""
    z = _mix(np.uint64(seed) + _GOLDEN) ^ _mix((np.uint64(index) + np.uint64(1)) * _STREAM)
    for word in range(STATE_WORDS):
        z = z + _GOLDEN
        state[word] = _mix(z)
    if state[0] == 0 and state[1] == 0 and state[2] == 0 and state[3] == 0:
        state[0] = _GOLDEN


@njit(inline="always")
def next_u64(state):
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    result = s0 + s3
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _S45) | (s3 >> _S19)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return result


@njit(inline="always")
def uniform(state):
    """A double in (0, 1): the top 53 bits, offset by half a unit so 0 never occurs."""
    return (float(next_u64(state) >> _S11) + 0.5) * _TWO_M53


@njit(inline="always")
def exponential(state):
    return -math.log(uniform(state))


@njit
def poisson(mean, state):
    """A Poisson(mean) variate as float64 (mean ≥ 0, finite)."""
    if mean <= 0.0:
        return 0.0
    if mean < 10.0:
        limit = math.exp(-mean)
        k = 0.0
        product = uniform(state)
        while product > limit:
            k += 1.0
            product *= uniform(state)
        return k
    root = math.sqrt(mean)
    log_mean = math.log(mean)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(state) - 0.5
        v = uniform(state)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b)
                <= -mean + k * log_mean - math.lgamma(k + 1.0)):
            return k


@njit
def stochastic_round(value, state):
    """floor(value) plus 1 with probability frac(value): an integer whose mean is ``value``."""
    whole = math.floor(value)
    fraction = value - whole
    if fraction > 0.0 and uniform(state) < fraction:
        whole += 1.0
    return np.int64(whole)
