"""Fitting rate constants to measured time courses (issue 21, item 4).

- fentonsim.fitting.data      — reading a measured time course (CSV with units in the header)
- fentonsim.fitting.spec      — observables, fitted parameters, experiments; the YAML specification
- fentonsim.fitting.objective — residuals and their Jacobian from the forward sensitivities
- fentonsim.fitting.priors    — Gaussian priors on ln k from the documented uncertainties
- fentonsim.fitting.estimate  — :func:`fit` (multi-start least squares, Fisher intervals) and :func:`profile`
- fentonsim.fitting.result    — :class:`FitResult`
- fentonsim.fitting.output    — parameter-set file and CSV tables
- fentonsim.fitting.plot      — fit and residual figure
- fentonsim.fitting.petab     — PEtab v1 import (TSV tables; SBML or fentonsim mechanism)
"""
from .data import Table, read_table
from .estimate import ConvergenceWarning, IdentifiabilityWarning, fit, load_spec, profile
from .petab import read_petab
from .output import parameter_set_text, write_curves, write_estimates, write_parameter_set
from .plot import plot_fit, plot_profile
from .result import FitResult
from .spec import Experiment, FitSpec, Observable, Parameter, read_spec

__all__ = ["ConvergenceWarning", "Experiment", "FitResult", "FitSpec", "IdentifiabilityWarning", "Observable",
           "Parameter", "Table",
           "fit", "load_spec", "parameter_set_text", "plot_fit", "plot_profile", "profile", "read_petab", "read_spec", "read_table",
           "write_curves", "write_estimates", "write_parameter_set"]
