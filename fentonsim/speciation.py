"""Acid–base speciation under the rapid-equilibrium approximation, vectorised.

A pool with forms F_0 (most protonated) … F_m and dissociation constants
Ka_i between F_i and F_{i+1} has fractions
α_j = (Π_{i<j} Ka_i / [H+]^j) / Σ_l (Π_{i<l} Ka_i / [H+]^l),
the Henderson–Hasselbalch relation generalised to m steps. pKa varies with
temperature by van 't Hoff: pKa(T) = pKa + dH/(R ln10)·(1/T − 1/T_ref).
"""
from __future__ import annotations

import numpy as np

from .constants import GAS_CONSTANT, LN10


def pka_at(pka, dH, T_ref, temperature):
    """pKa at ``temperature`` [K]; arrays broadcast (dH in J mol⁻¹, T_ref in K)."""
    return np.asarray(pka) + np.asarray(dH) / (GAS_CONSTANT * LN10) * (
        1.0 / np.asarray(temperature) - 1.0 / np.asarray(T_ref))


def fractions(pkas, pH):
    """Fractions of each form at ``pH``.

    Parameters
    ----------
    pkas : array_like, shape (..., m)
        pKa values between consecutive forms (most protonated first).
    pH : array_like, shape (...)
        pH values, broadcast against ``pkas[..., 0]``.

    Returns
    -------
    ndarray, shape (..., m + 1)
        Fractions α_j, summing to one along the last axis (dimensionless).
    """
    pkas = np.asarray(pkas, dtype=float)
    pH = np.asarray(pH, dtype=float)[..., None]
    n_forms = pkas.shape[-1] + 1
    zeros = np.zeros(pkas.shape[:-1] + (1,))
    # log10 of the unnormalised weights: j·pH − Σ_{i<j} pKa_i.
    log_w = np.concatenate([zeros, np.cumsum(-pkas, axis=-1)], axis=-1) + np.arange(n_forms) * pH
    log_w = log_w - log_w.max(axis=-1, keepdims=True)
    weights = 10.0 ** log_w
    return weights / weights.sum(axis=-1, keepdims=True)
