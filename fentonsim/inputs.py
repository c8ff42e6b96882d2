"""Time-dependent inputs: boluses and continuous sources.

A :class:`Bolus` adds an amount of a species at one instant (a dose of H₂O₂,
a second injection of catalyst). A :class:`Source` supplies a species
continuously: zero order (a constant rate, e.g. glucose-oxidase H₂O₂
production or CaO₂ decomposition at steady state) or first order (release of
a finite reservoir with rate constant k, e.g. ions leaching from a
nanoparticle). Solvers land exactly on every bolus time and every source
start and stop, so no step straddles a discontinuity.

Quantities accept a number in canonical units (M, M s⁻¹, s, s⁻¹) or a string
with a unit, such as ``"50 uM"`` or ``"10 min"``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ConditionsError
from .units import CONCENTRATION, CONCENTRATION_RATE, FREQUENCY, TIME, parse_quantity


def _quantity(value, dims, unit, what, *, allow_infinite=False, positive=False):
    if allow_infinite and isinstance(value, (int, float)) and math.isinf(value) and value > 0:
        return math.inf
    number = parse_quantity(value, dims, unit, what)
    if number < 0 or (positive and number == 0):
        raise ConditionsError(f"{what} must be {'positive' if positive else 'non-negative'}, found {value!r}")
    return number


@dataclass(frozen=True)
class Bolus:
    """Add ``amount`` of ``species`` at ``time``.

    Parameters
    ----------
    species : str
        A species, pool or form name of the model.
    amount : float or str
        Concentration added [M] (or with a unit, ``"100 uM"``).
    time : float or str
        When [s] (or with a unit, ``"30 min"``). At an output time equal to
        ``time`` the reported state includes the bolus.
    """

    species: str
    amount: float
    time: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "amount", _quantity(self.amount, CONCENTRATION, "M", f"bolus `amount` of {self.species}"))
        object.__setattr__(self, "time", _quantity(self.time, TIME, "s", f"bolus `time` of {self.species}"))

    def describe(self) -> str:
        return f"bolus {self.amount:g} M {self.species} at {self.time:g} s"


@dataclass(frozen=True)
class Assignment:
    """Set ``species`` to ``value`` at ``time`` (whatever it was just before).

    The form SBML events take (``X = 50`` when t ≥ 25 s), and a way to model an
    instantaneous removal (set GSH to 0). Amounts set by an assignment are not
    part of the result's ``delivered`` variable, which counts additions only.

    Parameters
    ----------
    species : str
        A species or pool name of the model.
    value : float or str
        Concentration after the assignment [M] (or with a unit, ``"0 uM"``).
    time : float or str
        When [s] (or with a unit).
    """

    species: str
    value: float
    time: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "value", _quantity(self.value, CONCENTRATION, "M", f"assignment `value` of {self.species}"))
        object.__setattr__(self, "time", _quantity(self.time, TIME, "s", f"assignment `time` of {self.species}"))

    def describe(self) -> str:
        return f"set {self.species} to {self.value:g} M at {self.time:g} s"


@dataclass(frozen=True)
class Source:
    """Continuous supply of ``species`` between ``start`` and ``stop``.

    Build with :meth:`zero_order` or :meth:`first_order`. The supply rate is
    ``amplitude · exp(−decay · (t − start))`` [M s⁻¹].
    """

    species: str
    amplitude: float
    decay: float
    start: float = 0.0
    stop: float = math.inf
    kind: str = "zero-order"

    @classmethod
    def zero_order(cls, species: str, rate, start=0.0, stop=math.inf) -> "Source":
        """Constant supply ``rate`` [M s⁻¹] (e.g. ``"1 uM/s"``) for start ≤ t < stop [s]."""
        rate = _quantity(rate, CONCENTRATION_RATE, "M/s", f"zero-order source `rate` of {species}")
        return cls(species, rate, 0.0, *_window(species, start, stop), kind="zero-order")

    @classmethod
    def first_order(cls, species: str, amount, rate_constant, start=0.0, stop=math.inf) -> "Source":
        """Release of a reservoir ``amount`` [M] with ``rate_constant`` [s⁻¹]: rate k·A·exp(−k(t − start))."""
        amount = _quantity(amount, CONCENTRATION, "M", f"first-order source `amount` of {species}")
        k = _quantity(rate_constant, FREQUENCY, "1/s", f"first-order source `rate_constant` of {species}",
                      positive=True)
        return cls(species, k * amount, k, *_window(species, start, stop), kind="first-order")

    def delivered(self, t) -> np.ndarray:
        """Cumulative amount supplied [M] by times ``t`` [s] (exact, vectorised)."""
        elapsed = np.clip(np.minimum(np.asarray(t, dtype=float), self.stop) - self.start, 0.0, None)
        if self.decay == 0.0:
            return self.amplitude * elapsed
        return self.amplitude / self.decay * -np.expm1(-self.decay * elapsed)

    def describe(self) -> str:
        window = f"from {self.start:g} s" + ("" if math.isinf(self.stop) else f" to {self.stop:g} s")
        if self.kind == "zero-order":
            return f"zero-order source {self.amplitude:g} M/s {self.species} {window}"
        return (f"first-order source {self.amplitude / self.decay:g} M {self.species}, "
                f"k = {self.decay:g} s^-1 {window}")


def _window(species, start, stop):
    start = _quantity(start, TIME, "s", f"source `start` of {species}")
    stop = _quantity(stop, TIME, "s", f"source `stop` of {species}", allow_infinite=True)
    if not stop > start:
        raise ConditionsError(f"source of {species}: `stop` ({stop:g} s) must be after `start` ({start:g} s)")
    return start, stop


@dataclass(frozen=True)
class CompiledInputs:
    """Inputs as the kernels take them (see fentonsim.kernels.rosenbrock).

    bolus_time (n_b,) [s], bolus_species (n_b,) int64, bolus_amount (n_b,) [M], sorted by time
    (stable, so same-time inputs apply in the order given); bolus_species is the species index for
    a Bolus and −1 − index for an Assignment, whose ``bolus_amount`` is the value set;
    bolus_order (n_b,) int64: position of each sorted bolus in the caller's sequence;
    source_species (n_src,) int64, source_amplitude (n_src,) [M s⁻¹],
    source_decay (n_src,) [s⁻¹], source_start, source_stop (n_src,) [s];
    stops (n_stop,) [s]: ascending discontinuity times in (t0, t_end] plus t_end.
    """

    boluses: tuple
    sources: tuple
    bolus_time: np.ndarray
    bolus_species: np.ndarray
    bolus_amount: np.ndarray
    bolus_order: np.ndarray
    source_species: np.ndarray
    source_amplitude: np.ndarray
    source_decay: np.ndarray
    source_start: np.ndarray
    source_stop: np.ndarray
    stops: np.ndarray


def compile_inputs(network, boluses=(), sources=(), t0: float = 0.0, t_end: float = 0.0) -> CompiledInputs:
    """Resolve species names and collect the stop times for ``network``.

    Raises
    ------
    ConditionsError
        Unknown species, an input that is not a Bolus/Source, or a bolus after ``t_end``.
    """
    boluses, sources = tuple(boluses), tuple(sources)
    if not boluses and not sources:
        # The common case, kept cheap: a warm solve of a Fenton network takes a few hundred µs.
        empty, empty_index = np.empty(0), np.empty(0, dtype=np.int64)
        return CompiledInputs((), (), empty, empty_index, empty, empty_index, empty_index, empty, empty, empty,
                              empty, np.array([float(t_end)]))
    for item in boluses:
        if not isinstance(item, (Bolus, Assignment)):
            raise ConditionsError(f"`boluses` must hold fentonsim.Bolus or fentonsim.Assignment objects, "
                                  f"found {item!r}")
        if item.time > t_end or item.time < t0:
            raise ConditionsError(f"{item.describe()} lies outside the simulated span [{t0:g}, {t_end:g}] s")
    for item in sources:
        if not isinstance(item, Source):
            raise ConditionsError(f"`sources` must hold fentonsim.Source objects, found {item!r}")

    def index(item):
        try:
            return network.species_index(item.species)
        except KeyError as exc:
            raise ConditionsError(f"{item.describe()}: {exc.args[0]}") from None

    order = sorted(range(len(boluses)), key=lambda b: boluses[b].time)
    boluses = tuple(boluses[b] for b in order)
    times = [b.time for b in boluses if t0 < b.time <= t_end]
    for s in sources:
        times += [t for t in (s.start, s.stop) if t0 < t < t_end]
    stops = np.unique(np.array(times + [t_end], dtype=float))
    return CompiledInputs(
        boluses=boluses,
        sources=sources,
        bolus_time=np.array([b.time for b in boluses], dtype=float),
        bolus_species=np.array([index(b) if isinstance(b, Bolus) else -1 - index(b) for b in boluses],
                               dtype=np.int64),
        bolus_amount=np.array([b.amount if isinstance(b, Bolus) else b.value for b in boluses], dtype=float),
        bolus_order=np.array(order, dtype=np.int64),
        source_species=np.array([index(s) for s in sources], dtype=np.int64),
        source_amplitude=np.array([s.amplitude for s in sources], dtype=float),
        source_decay=np.array([s.decay for s in sources], dtype=float),
        source_start=np.array([s.start for s in sources], dtype=float),
        source_stop=np.array([s.stop for s in sources], dtype=float),
        stops=stops,
    )
