"""fentonsim: stochastic and deterministic simulation of Fenton and Fenton-like chemistry.

Data flow: mechanism file -> :func:`load_mechanism` (validated
:class:`Mechanism`) -> :func:`compile_network` (dense arrays) -> solvers.
"""
from .conditions import Conditions, load_conditions
from .errors import ConditionsError, FentonsimError, MechanismError, UnitError
from .mechanism import Mechanism, load_mechanism
from .mechanism.dump import dump_mechanism
from .network import Network, compile_network

__version__ = "0.1.0"

__all__ = [
    "Conditions", "ConditionsError", "FentonsimError", "Mechanism", "MechanismError", "Network",
    "UnitError", "compile_network", "dump_mechanism", "load_conditions", "load_mechanism", "__version__",
]
