"""fentonsim: stochastic and deterministic simulation of Fenton and Fenton-like chemistry.

Data flow: mechanism file -> :func:`load_mechanism` (validated
:class:`Mechanism`) -> :func:`compile_network` (dense arrays) -> solvers
(:func:`solve_ode`, :func:`solve_ode_batch`, :func:`run_stochastic`) -> :func:`simulate`, which returns
an ``xarray.Dataset`` (schema in :mod:`fentonsim.results`) -> :func:`metrics` (·OH yield and friends),
:func:`compare` (catalysts × conditions), :func:`sensitivities` (∂c/∂ln k, forward, compiled),
:func:`global_sensitivity` (Morris and Sobol' indices over the documented ranges; SALib),
:func:`fit` (constants from measured time courses, fentonsim.fitting) and :mod:`fentonsim.plotting`.
``MECHANISMS`` is the directory of the shipped mechanism files.
"""
from .version import __version__  # noqa: E402

from .conditions import Conditions, load_conditions  # noqa: E402
from .deterministic import ODEBatch, ODESolution, solve_ode, solve_ode_batch  # noqa: E402
from .errors import ConditionsError, DataError, FentonsimError, MechanismError, SolverError, UnitError  # noqa: E402
from .inputs import Assignment, Bolus, Source  # noqa: E402
from .models import load  # noqa: E402
from .mechanism import Mechanism, load_mechanism  # noqa: E402
from .mechanism.dump import dump_mechanism  # noqa: E402
from .network import Network, compile_network  # noqa: E402
from .simulate import simulate  # noqa: E402
from .metrics import metrics, summarize  # noqa: E402
from .catalysts import MECHANISM_DIRECTORY as MECHANISMS  # noqa: E402
from .compare import compare  # noqa: E402
from .sweep import sweep  # noqa: E402
from .sensitivity import sensitivities  # noqa: E402
from .global_sensitivity import global_sensitivity  # noqa: E402
from .fitting import FitResult, fit  # noqa: E402
from .stochastic import StochasticSolution, run_stochastic  # noqa: E402
from .validity import ValidityWarning, validity_warnings  # noqa: E402

__all__ = [
    "Assignment", "Bolus", "Conditions", "ConditionsError", "DataError", "FentonsimError", "FitResult", "fit",
    "Mechanism", "MechanismError", "Network",
    "ODEBatch", "ODESolution", "SolverError", "Source", "StochasticSolution", "UnitError", "compile_network", "dump_mechanism",
    "MECHANISMS", "compare", "load", "load_conditions", "load_mechanism", "metrics", "run_stochastic", "sensitivities",
    "global_sensitivity",
    "simulate", "solve_ode", "solve_ode_batch", "summarize", "sweep", "ValidityWarning", "validity_warnings", "__version__",
]
