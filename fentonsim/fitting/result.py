"""What a fit returns: estimates with intervals, correlations, residuals and fitted curves."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import xarray as xr


@dataclass(frozen=True, eq=False)
class FitResult:
    """The outcome of :func:`fentonsim.fit`.

    Attributes
    ----------
    parameters : tuple of str
        Fitted entries (``rate:F1``, ``initial:Fe+2``, an observable's offset; ``name[experiment]`` for
        per-experiment ones).
    estimate, ci_low, ci_high : ndarray
        Natural units: k [M^(1−m) s⁻¹, r = k·Π[c]^ν], c0 [M], observable offsets/scales in their units.
    x, standard_error : ndarray
        The optimum and its standard errors in the fitted scale (ln θ for log-scale entries).
    correlation, covariance : ndarray (p, p)
        In the fitted scale, from the Fisher information (fentonsim.fitting.estimate).
    literature : ndarray
        The model's documented constant (rate), the experiment's given c0 (initial), NaN otherwise.
    cost : float
        ½·Σ r² at the optimum (with prior rows).
    residuals : ndarray (n_data,)
        Weighted data residuals (model − data)/σ.
    residual_variance : float
        s² (1 when every observable has its sigma).
    n_evaluations : int
        Residual evaluations (each one compiled sensitivity integration per experiment), all starts.
    start_costs : ndarray
        Final cost of each start.
    warnings, notes : tuple of str
        Identifiability warnings; other remarks (parameters without prior).
    curves : list of dict
        Per experiment: ``name``, ``rows`` [(experiment, observable, time, observed, sigma)], ``fitted``
        (model at the rows), ``time`` and ``smooth`` ({observable: values}) for plotting.
    """

    parameters: tuple
    kinds: tuple
    log: tuple
    estimate: np.ndarray
    x: np.ndarray
    standard_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    confidence: float
    correlation: np.ndarray
    covariance: np.ndarray
    literature: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    cost: float
    residuals: np.ndarray
    n_data: int
    dof: int
    residual_variance: float
    sigma_known: bool
    n_evaluations: int
    n_failures: int
    start_costs: np.ndarray
    success: bool
    message: str
    warnings: tuple
    notes: tuple
    curves: list
    wall_time_s: float
    spec: object = field(repr=False)
    objective: object = field(repr=False)
    network_name: str = ""

    def __getitem__(self, name: str) -> float:
        """The estimate of ``name`` (``rate:F1`` or ``F1``)."""
        names = list(self.parameters)
        key = name if name in names else f"rate:{name}"
        if key not in names:
            raise KeyError(f"`{name}` was not fitted; fitted: {', '.join(names)}")
        return float(self.estimate[names.index(key)])

    def rates(self, experiment: str | None = None) -> dict:
        """{reaction id: fitted k} of the shared rate constants, plus ``experiment``'s own ones."""
        out = {}
        for name, kind, value in zip(self.parameters, self.kinds, self.estimate):
            if kind != "rate":
                continue
            base, _, scope = name.partition("[")
            if scope and scope[:-1] != experiment:
                continue
            out[base.partition(":")[2]] = float(value)
        return out

    @property
    def per_experiment(self) -> bool:
        return any("[" in name for name, kind in zip(self.parameters, self.kinds) if kind == "rate")

    def table(self) -> list[dict]:
        """One row per fitted parameter: estimate, interval, standard error (fitted scale), literature."""
        return [{"parameter": name, "kind": kind, "scale": "log" if log else "linear", "estimate": float(value),
                 "ci_low": float(low), "ci_high": float(high), "standard_error": float(se),
                 "literature": float(lit), "lower_bound": float(lo), "upper_bound": float(up)}
                for name, kind, log, value, low, high, se, lit, lo, up in zip(
                    self.parameters, self.kinds, self.log, self.estimate, self.ci_low, self.ci_high,
                    self.standard_error, self.literature, self.lower, self.upper)]

    def to_dataset(self) -> xr.Dataset:
        """Estimates, intervals and correlations over ``parameter``; every measured value with the fitted one
        and its weighted residual over ``measurement`` (coordinates ``experiment``, ``observable``, ``time``);
        attributes with cost and counts."""
        names = list(self.parameters)
        rows = self.curve_rows()
        ds = xr.Dataset(
            {"estimate": ("parameter", self.estimate, {"units": "k: M^(1-order) s^-1; c0: M; observable units"}),
             "ci_low": ("parameter", self.ci_low), "ci_high": ("parameter", self.ci_high),
             "standard_error": ("parameter", self.standard_error, {"description": "in the fitted scale (ln θ or θ)"}),
             "literature": ("parameter", self.literature),
             "correlation": (("parameter", "parameter2"), self.correlation),
             "observed": ("measurement", np.array([r[3] for r in rows])),
             "fitted": ("measurement", np.array([r[4] for r in rows])),
             "residual": ("measurement", np.array([r[5] for r in rows]), {"description": "(fitted − observed)/σ"})},
            coords={"parameter": names, "parameter2": names, "kind": ("parameter", list(self.kinds)),
                    "log_scale": ("parameter", np.array(self.log, dtype=bool)),
                    "experiment": ("measurement", [r[0] for r in rows]),
                    "observable": ("measurement", [r[1] for r in rows]),
                    "time": ("measurement", np.array([r[2] for r in rows]), {"units": "s"})},
            attrs={"confidence": self.confidence, "cost": self.cost, "n_data": self.n_data, "dof": self.dof,
                   "residual_variance": self.residual_variance, "sigma_known": int(self.sigma_known),
                   "n_evaluations": self.n_evaluations, "success": int(self.success), "message": self.message,
                   "warnings": "\n".join(self.warnings), "notes": "\n".join(self.notes),
                   "wall_time_s": self.wall_time_s, "mechanism": self.network_name})
        return ds

    def curve_rows(self):
        """Rows (experiment, observable, time, observed, fitted, residual) for every measured value."""
        out = []
        for curve in self.curves:
            for r, (e, name, t, observed, sigma) in enumerate(curve["rows"]):
                fitted = float(curve["fitted"][r])
                out.append((curve["name"], name, t, observed, fitted, (fitted - observed) / sigma
                            if math.isfinite(fitted) else math.nan))
        return out
