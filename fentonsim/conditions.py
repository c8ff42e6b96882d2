"""Simulation conditions and condition-preset files (``kind: conditions``).

A preset file gives pH, temperature, volume, initial concentrations and
clamped (buffered) concentrations, each either a bare value or a mapping with
``value``, ``range``, ``ref`` and ``note`` so every number carries its source.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from ruamel.yaml.comments import CommentedMap

from .errors import ConditionsError, MechanismError, UnitError
from .units import CONCENTRATION, DIMENSIONLESS, FREQUENCY, TEMPERATURE, VOLUME, format_concentration, parse_unit
from .mechanism.yamlio import FileReader, read_mapping

CONDITIONS_KEYS = ("kind", "name", "description", "units", "pH", "temperature", "volume", "initial",
                   "buffered", "oxygen", "references")
OXYGEN_KEYS = ("supply", "initial", "set-point", "transfer", "note")
#: O2 supply modes of a preset's ``oxygen`` section: closed vessel (no exchange), stirred open vessel
#: (gas–liquid transfer toward air saturation) and tissue-like supply (relaxation toward a tissue level).
OXYGEN_SUPPLIES = ("closed", "open", "tissue")
#: Reactions of ros_core.yaml that carry the O2 exchange: r_in = kLa·[O2(supply)], r_out = kLa·[O2].
O2_EXCHANGE = ("O2X-in", "O2X-out")
O2_SUPPLY_SPECIES = "O2(supply)"
VALUE_KEYS = ("value", "range", "ref", "note", "evidence")


@dataclass(frozen=True)
class Conditions:
    """Conditions of a simulation.

    Attributes
    ----------
    pH : float or None
        pH (None: the mechanism default).
    temperature : float or None
        Temperature [K] (None: the mechanism default).
    volume : float or None
        Reaction volume [L], used by the stochastic solvers (None: the mechanism default).
    initial : mapping of str to float
        Initial concentrations [M] by species, pool or form name.
    buffered : mapping of str to float
        Clamped concentrations [M] overriding the mechanism defaults.
    name : str
        Preset name, for labels.
    sources : mapping of str to str
        Reference of each value, keyed like ``pH`` or ``initial.H2O2``.
    rates : mapping of str to float
        Reference rate constants [M^(1−m) s⁻¹] the conditions set, by mechanism reaction id — the
        O2 exchange constants (``O2X-in``, ``O2X-out``) of the ``oxygen`` section. They act on the
        rate constants at run time; a model without those reactions ignores them.
    oxygen : str
        How O2 is resupplied, in words (:func:`describe_oxygen`; ``""``: the preset says nothing and the
        mechanism default, a closed vessel, applies).
    oxygen_kind : str
        The preset's ``oxygen.supply`` (one of :data:`OXYGEN_SUPPLIES`), ``""`` without an ``oxygen`` section.
    """

    pH: float | None = None
    temperature: float | None = None
    volume: float | None = None
    initial: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    buffered: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    name: str = ""
    description: str = ""
    sources: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), compare=False)
    rates: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    oxygen: str = ""
    oxygen_kind: str = ""

    def __post_init__(self):
        if self.pH is not None and not 0 <= self.pH <= 14:
            raise ConditionsError(f"`pH` must be between 0 and 14, found {self.pH}")
        if self.temperature is not None and not self.temperature > 0:
            raise ConditionsError(f"`temperature` must be positive (kelvin), found {self.temperature}")
        if self.volume is not None and not self.volume > 0:
            raise ConditionsError(f"`volume` must be positive (litres), found {self.volume}")
        object.__setattr__(self, "initial", MappingProxyType(dict(self.initial)))
        object.__setattr__(self, "buffered", MappingProxyType(dict(self.buffered)))
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))
        object.__setattr__(self, "rates", MappingProxyType(dict(self.rates)))

    def replace(self, **changes) -> "Conditions":
        """A copy with ``changes`` applied (same checks as the constructor)."""
        return replace(self, **changes)


def _value(reader: FileReader, node, key, dims, default_unit, what, sources, source_key, positive=False):
    raw_node, raw_key = node, key
    item = node[key]
    if isinstance(item, CommentedMap):
        reader.check_keys(item, VALUE_KEYS, what, required=("value",))
        if item.get("ref") is not None:
            sources[source_key] = str(item["ref"])
        if "range" in item:
            bounds = item["range"]
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise reader.error(f"`range` of {what} must be `[low, high]`", item, "range")
            for i in (0, 1):
                if dims == DIMENSIONLESS:
                    reader.number(bounds, i, f"range of {what}", required=True)
                else:
                    reader.quantity(bounds, i, dims, default_unit, f"range of {what}")
        raw_node, raw_key = item, "value"
    if dims == DIMENSIONLESS:
        value = reader.number(raw_node, raw_key, what)
        if value is None:
            raise reader.error(f"{what} must be a number", raw_node, raw_key)
        return value
    return reader.quantity(raw_node, raw_key, dims, default_unit, what, positive=positive, non_negative=True)


def load_conditions(path) -> Conditions:
    """Load a condition preset (``kind: conditions``) from ``path``.

    Raises
    ------
    MechanismError
        With file and line for syntax, unknown keys, units and ranges.
    """
    path = Path(path)
    top = read_mapping(path)
    units = {"concentration": parse_unit("M"), "temperature": parse_unit("K"), "volume": parse_unit("L")}
    reader = FileReader(path, units)
    if top.get("kind") != "conditions":
        raise reader.error("not a conditions file: expected `kind: conditions` at the top", top)
    reader.check_keys(top, CONDITIONS_KEYS, "the conditions file")
    header = reader.mapping(top, "units", "the conditions file") or {}
    reader.check_keys(header, ("concentration", "temperature", "volume"), "`units`")
    for key, dims in (("concentration", CONCENTRATION), ("temperature", TEMPERATURE), ("volume", VOLUME)):
        if key in header:
            try:
                unit = parse_unit(str(header[key]))
            except UnitError as exc:
                raise reader.error(f"`units.{key}`: {exc}", header, key) from None
            if unit.dims != dims:
                raise reader.error(f"`units.{key}` must be a {key} unit, found `{header[key]}`", header, key)
            units[key] = unit
    sources: dict[str, str] = {}
    values = {}
    if "pH" in top:
        values["pH"] = _value(reader, top, "pH", DIMENSIONLESS, None, "`pH`", sources, "pH")
        if not 0 <= values["pH"] <= 14:
            raise reader.error(f"`pH` must be between 0 and 14, found {values['pH']}", top, "pH")
    if "temperature" in top:
        values["temperature"] = _value(reader, top, "temperature", TEMPERATURE, units["temperature"],
                                       "`temperature`", sources, "temperature", positive=True)
    if "volume" in top:
        values["volume"] = _value(reader, top, "volume", VOLUME, units["volume"], "`volume`", sources,
                                  "volume", positive=True)
    for section in ("initial", "buffered"):
        node = reader.mapping(top, section, "the conditions file") or {}
        values[section] = {str(name): _value(reader, node, name, CONCENTRATION, units["concentration"],
                                             f"{section} concentration of `{name}`", sources, f"{section}.{name}")
                           for name in node}
    values["rates"], values["oxygen"], values["oxygen_kind"] = {}, "", ""
    if "oxygen" in top:
        _oxygen(reader, top, units, values, sources)
    try:
        return Conditions(name=reader.string(top, "name", "the conditions file", default=path.stem),
                          description=reader.string(top, "description", "the conditions file", default="") or "",
                          sources=sources, **values)
    except ConditionsError as exc:
        raise MechanismError(str(exc), path) from None


#: How each supply reads in results and footers.
_SUPPLY_WORDS = {"open": "stirred open vessel", "tissue": "tissue-like supply", "": "O2 exchange"}


def describe_oxygen(kind: str, start: float, set_point: float = 0.0, transfer: float = 0.0) -> str:
    """One line on how O2 behaves: ``kind`` (a supply of :data:`OXYGEN_SUPPLIES`, or "" for exchange set some
    other way), starting O2 and set point [M], transfer constant kLa [s⁻¹]; no exchange reads as a closed vessel."""
    if kind == "closed" or transfer == 0:
        return f"closed vessel (no O2 exchange), O2 starts at {format_concentration(start)}"
    return (f"{_SUPPLY_WORDS.get(kind, kind)}: O2 relaxes toward {format_concentration(set_point)} at "
            f"kLa = {transfer:.3g} s^-1, starts at {format_concentration(start)}")


def _oxygen(reader: FileReader, top, units, values, sources) -> None:
    """Read the ``oxygen`` section into O2's initial value, the supply set point (clamped
    ``O2(supply)``), the exchange constants and a one-line description."""
    node = reader.mapping(top, "oxygen", "the conditions file")
    if node is None:  # `oxygen:` with nothing after it
        raise reader.error("`oxygen` must be a mapping with `supply` and `initial`", top, "oxygen")
    reader.check_keys(node, OXYGEN_KEYS, "`oxygen`", required=("supply", "initial"))
    supply = reader.string(node, "supply", "`oxygen`")
    if supply not in OXYGEN_SUPPLIES:
        raise reader.error(f"`oxygen.supply` must be one of {', '.join(OXYGEN_SUPPLIES)}, found `{supply}`",
                           node, "supply")
    if "O2" in values["initial"]:
        raise reader.error("O2 is given both in `initial` and in `oxygen.initial`; keep `oxygen.initial`",
                           top, "oxygen")
    if O2_SUPPLY_SPECIES in values["buffered"]:
        raise reader.error(f"`{O2_SUPPLY_SPECIES}` is set by `oxygen.set-point`, not `buffered`", top, "oxygen")
    initial = _value(reader, node, "initial", CONCENTRATION, units["concentration"], "`oxygen.initial`",
                     sources, "oxygen.initial")
    values["initial"]["O2"] = initial
    if supply == "closed":
        for key in ("set-point", "transfer"):
            if key in node:
                raise reader.error(f"a closed vessel exchanges no O2: remove `oxygen.{key}` or choose "
                                   "`supply: open` or `supply: tissue`", node, key)
        set_point, transfer = 0.0, 0.0
    else:
        for key in ("set-point", "transfer"):
            if key not in node:
                raise reader.error(f"`oxygen.supply: {supply}` needs `oxygen.{key}`", node, "supply")
        set_point = _value(reader, node, "set-point", CONCENTRATION, units["concentration"],
                           "`oxygen.set-point`", sources, "oxygen.set-point")
        transfer = _value(reader, node, "transfer", FREQUENCY, parse_unit("1/s"), "`oxygen.transfer`",
                          sources, "oxygen.transfer")
    values["oxygen"], values["oxygen_kind"] = describe_oxygen(supply, initial, set_point, transfer), supply
    values["buffered"][O2_SUPPLY_SPECIES] = set_point
    values["rates"] = {rid: transfer for rid in O2_EXCHANGE}
