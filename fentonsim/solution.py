"""The arrays a deterministic solve returns, in a module of their own so that every solver (the compiled
Rosenbrock methods in fentonsim.deterministic, the scipy ones in fentonsim.scipy_solvers) builds the same
type without importing another solver."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .inputs import CompiledInputs

COUNTER_NAMES = ("n_steps", "n_rejected", "n_rhs", "n_jac", "n_lu")
#: Attempted steps a solve may take before it stops with a SolverError (every solver).
DEFAULT_MAX_STEPS = 500_000


@dataclass
class ODESolution:
    """Arrays of one deterministic solution.

    Attributes
    ----------
    time : ndarray, shape (n_out,)
        Output times [s].
    concentration : ndarray, shape (n_out, n_s)
        State variables [M].
    extent : ndarray, shape (n_out, n_r), or None
        Cumulative extent of each network reaction, ∫ r dt [M], from t0 (None if not requested).
    exposure : ndarray, shape (n_out, n_s), or None
        ∫ concentration dt [M s], from t0 (None if not requested).
    counters : dict of str to int
        ``n_steps`` (accepted), ``n_rejected``, ``n_rhs``, ``n_jac``, ``n_lu``;
        −1 where a solver does not report it.
    solver, rtol, atol : str, float, ndarray (n_s,)
        What produced the solution.
    wall_time_s : float
        Wall-clock time of the solve [s].
    metric_time : ndarray, shape (n_m,), or None
        The metric grid [s] (module docstring; None when not requested).
    metric_concentration : ndarray, shape (n_m, n_s), or None
        State variables on the metric grid [M], from the same dense output as ``concentration``.
    metric_exposure : ndarray, shape (n_m, n_s), or None
        Exposures on the metric grid [M s] (None without fluxes).
    """

    time: np.ndarray
    concentration: np.ndarray
    extent: np.ndarray
    exposure: np.ndarray
    counters: dict
    solver: str
    rtol: float
    atol: np.ndarray
    wall_time_s: float
    inputs: CompiledInputs | None = field(default=None, repr=False)
    metric_time: np.ndarray | None = field(default=None, repr=False)
    metric_concentration: np.ndarray | None = field(default=None, repr=False)
    metric_exposure: np.ndarray | None = field(default=None, repr=False)


@dataclass
class ODEBatch:
    """Arrays of many conditions of one network (leading axis: condition, n_c).

    concentration (n_c, n_out, n_s) [M]; extent (n_c, n_out, n_r) [M];
    exposure (n_c, n_out, n_s) [M s]; counters (n_c, 5) int64 in the order of
    ``COUNTER_NAMES``; status (n_c,) int (0 = success; failed conditions hold NaN);
    failure (n_c, 3): time reached [s], step [s], limiting species index; metric_time (n_m,) [s],
    metric_concentration (n_c, n_m, n_s) [M] and metric_exposure (n_c, n_m, n_s) [M s]: the metric
    grid (module docstring), None when not requested.
    """

    time: np.ndarray
    concentration: np.ndarray
    extent: np.ndarray
    exposure: np.ndarray
    counters: np.ndarray
    status: np.ndarray
    failure: np.ndarray
    rtol: float
    atol: np.ndarray
    wall_time_s: float
    metric_time: np.ndarray | None = None
    metric_concentration: np.ndarray | None = None
    metric_exposure: np.ndarray | None = None
