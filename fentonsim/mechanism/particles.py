"""Nanoparticle catalysts: geometry declared in a mechanism file, surface quantities derived from it.

A solid catalyst is an integrated species counting formula units per litre (``Fe3O4(s)`` in M), as in
release.yaml. Its ``particles:`` entry gives what the literature reports about the material::

    particles:
    - species: Fe3O4(s)
      shape: sphere               # or sheet (square platelet: thickness and lateral-size)
      diameter: 300 nm
      density: 5.17 g/cm^3        # any two of diameter, density, specific-surface-area (spheres)
      site-density: 2.3 nm^-2     # reactive surface sites per area
      dose: 40 ug/mL              # default mass concentration (compare's dose for this catalyst)

From these the loader derives, per formula unit dosed (monodisperse particles, constant while the solid
dissolves: a shrinking particle's specific area is not followed):

- specific surface area a_s [m² g⁻¹] = 6/(ρ·d) for spheres, (2/t + 4/L)/ρ for square sheets;
- surface area per volume A [m² L⁻¹] = c·M_w·a_s (c the formula units [M], M_w their molar mass);
- surface sites [M] = A·σ/N_A (σ the site density);
- particles [M] = c·M_w/(ρ·V_p·N_A) (V_p the volume of one particle).

A reaction first order in the particle species may give its constant on one of these bases with
``rate: {k: ..., per: area | site | particle | mass}``; the loader turns it into the r = k·g convention
(g = [solid]·… as written) by the factor that converts [solid] into that basis, checking the unit:

=========  ====================================  ================================================
per        factor (per mol of formula units)     k for r = k_b·(basis)·[S], e.g.
=========  ====================================  ================================================
area       M_w·a_s [m² mol⁻¹]                     ``2e-9 m s^-1`` or ``L m^-2 s^-1``
site       M_w·a_s·σ/N_A [1]                      ``5 M^-1 s^-1`` per M of sites
particle   M_w/(ρ·V_p·N_A) [1]                    ``1.1e5 s^-1`` (k_cat per particle, with ``mm()``)
mass       M_w [g mol⁻¹]                          ``2.4e-6 mol g^-1 s^-1`` (V_max per mass)
=========  ====================================  ================================================
"""
from __future__ import annotations

import math

from ruamel.yaml.comments import CommentedMap

from ..constants import AVOGADRO
from ..errors import ConditionsError, UnitError
from ..expression import evaluate
from ..units import AMOUNT, AREA, CONCENTRATION, DIMENSIONLESS, LENGTH, MASS, VOLUME, Unit, parse_quantity
from .schema import Location, Particle

PARTICLE_KEYS = ("species", "shape", "diameter", "thickness", "lateral-size", "density", "specific-surface-area",
                 "site-density", "molar-mass", "dose", "ref", "note")
SHAPES = ("sphere", "sheet")
BASES = ("area", "site", "particle", "mass")

_DENSITY = tuple(m - v for m, v in zip(MASS, VOLUME))            # g L⁻¹
_SPECIFIC_AREA = tuple(a - m for a, m in zip(AREA, MASS))         # dm² g⁻¹
_PER_AREA = tuple(-a for a in AREA)                               # sites dm⁻²
_MOLAR_MASS = tuple(m - n for m, n in zip(MASS, AMOUNT))          # g mol⁻¹
_NUMBER_DENSITY = tuple(-v for v in VOLUME)                       # particles L⁻¹
_MASS_CONCENTRATION = _DENSITY                                    # g L⁻¹
#: dm → m and dm² → m²: the canonical length is the decimetre (fentonsim.units).
M_PER_DM, M2_PER_DM2 = 0.1, 0.01
#: Given diameter, density and specific surface area must agree this well (relative): a measured BET area
#: beyond the geometric one belongs to a porous or rough material; give it with the density only, and the
#: diameter is then the equivalent sphere's.
GEOMETRY_TOLERANCE = 0.05

#: Standard atomic weights [g mol⁻¹] (IUPAC 2021, abridged to 5 significant figures) of the elements a
#: nanomaterial is made of; a formula with another element gives its ``molar-mass``.
ATOMIC_WEIGHTS = {
    "H": 1.008, "C": 12.011, "N": 14.007, "O": 15.999, "F": 18.998, "Na": 22.990, "Mg": 24.305, "Al": 26.982,
    "Si": 28.085, "P": 30.974, "S": 32.06, "Cl": 35.45, "K": 39.098, "Ca": 40.078, "Ti": 47.867, "V": 50.942,
    "Cr": 51.996, "Mn": 54.938, "Fe": 55.845, "Co": 58.933, "Ni": 58.693, "Cu": 63.546, "Zn": 65.38,
    "Se": 78.971, "Mo": 95.95, "Ru": 101.07, "Pd": 106.42, "Ag": 107.87, "Ce": 140.12, "Gd": 157.25,
    "W": 183.84, "Ir": 192.22, "Pt": 195.08, "Au": 196.97, "Bi": 208.98,
}
#: Elements that are not the metal of a metal oxide, peroxide or sulfide (for ·OH per metal atom).
NON_METALS = frozenset({"H", "C", "N", "O", "F", "P", "S", "Cl", "Se", "Si"})


def molar_mass_of(composition) -> float | None:
    """Molar mass [g mol⁻¹] of a formula given as (element, count) pairs; None if an element is not tabulated."""
    if any(element not in ATOMIC_WEIGHTS for element, _ in composition):
        return None
    return sum(ATOMIC_WEIGHTS[element] * count for element, count in composition)


def metal_atoms(composition) -> int:
    """Metal atoms per formula unit (Fe3O4: 3), for ·OH per metal atom dosed."""
    return sum(count for element, count in composition if element not in NON_METALS)


# ---------------------------------------------------------------- reading `particles:`


def parse_particles(reader, top) -> list:
    """The ``particles:`` entries of a file as (reader, node) pairs, keys checked; finalised by :func:`build`
    once the merged species table is known."""
    out = []
    for index, node in enumerate(reader.sequence(top, "particles", "the mechanism file")):
        if not isinstance(node, CommentedMap):
            raise reader.error(f"entry {index + 1} of `particles` must be a mapping, found `{node}`",
                               top["particles"], index)
        reader.check_keys(node, PARTICLE_KEYS, "a `particles` entry", required=("species",))
        out.append((reader, node))
    return out


def build(pending, species, kinds, dynamic_kind) -> dict:
    """{species name: Particle} from :func:`parse_particles` output; errors name file and line."""
    out = {}
    for reader, node in pending:
        name = reader.string(node, "species", "a `particles` entry", required=True)
        what = f"particle `{name}`"
        if name not in species:
            raise reader.error(f"{what} names a species the mechanism does not declare; declare the solid "
                               "(e.g. `{name: Fe3O4(s), composition: {Fe: 3, O: 4}}`) under `species`", node,
                               "species")
        if kinds.get(name) != dynamic_kind:
            raise reader.error(f"{what} is a {kinds.get(name)} species; a particle is integrated (it is dosed and "
                               "may dissolve)", node, "species")
        if name in out:
            first = out[name].location
            raise reader.error(f"duplicate particle `{name}` (first defined at {first.path}:{first.line})", node,
                               "species")
        out[name] = _particle(reader, node, name, species[name], what)
    return out


def _quantity(reader, node, key, dims, what, required=False):
    if key not in node:
        if required:
            raise reader.error(f"{what} is missing `{key}`", node)
        return None
    value = node[key]
    if isinstance(value, bool) or not isinstance(value, str):
        raise reader.error(f"`{key}` of {what} needs its unit (e.g. `{_EXAMPLES[key]}`), found `{value}`",
                           node, key)
    return reader.quantity(node, key, dims, None, f"`{key}` of {what}", positive=True)


_EXAMPLES = {"diameter": "300 nm", "thickness": "3 nm", "lateral-size": "50 nm", "density": "5.17 g/cm^3",
             "specific-surface-area": "90 m^2/g", "site-density": "2.3 nm^-2", "molar-mass": "231.5 g/mol",
             "dose": "40 ug/mL"}


def _particle(reader, node, name, species, what) -> Particle:
    shape = reader.string(node, "shape", what, default="sphere")
    if shape not in SHAPES:
        raise reader.error(f"`shape` of {what} must be one of {', '.join(SHAPES)}, found `{shape}`", node, "shape")
    given = {key: _quantity(reader, node, key, dims, what) for key, dims in (
        ("diameter", LENGTH), ("thickness", LENGTH), ("lateral-size", LENGTH), ("density", _DENSITY),
        ("specific-surface-area", _SPECIFIC_AREA), ("site-density", _PER_AREA), ("molar-mass", _MOLAR_MASS))}
    formula = molar_mass_of(species.composition)
    molar_mass = given["molar-mass"]
    if molar_mass is None:
        if formula is None:
            missing = sorted(e for e, _ in species.composition if e not in ATOMIC_WEIGHTS)
            raise reader.error(f"{what}: no atomic weight tabulated for {', '.join(missing)}; give `molar-mass`",
                               node, "species")
        molar_mass = formula
    elif formula is not None and abs(molar_mass / formula - 1) > 0.01:
        raise reader.error(f"`molar-mass` of {what} is {molar_mass:.6g} g/mol, but its composition gives "
                           f"{formula:.6g} g/mol; drop `molar-mass` or fix the composition", node, "molar-mass")
    if given["site-density"] is None:
        raise reader.error(f"{what} is missing `site-density` (reactive surface sites per area, e.g. `2.3 nm^-2`)",
                           node)
    density, area = given["density"], given["specific-surface-area"]
    lateral = 0.0
    if shape == "sphere":
        for key in ("thickness", "lateral-size"):
            if given[key] is not None:
                raise reader.error(f"`{key}` describes a sheet, but {what} is a sphere; give `diameter` or write "
                                   "`shape: sheet`", node, key)
        size = given["diameter"]
        known = sum(v is not None for v in (size, density, area))
        if known < 2:
            raise reader.error(f"{what} (a sphere) needs two of `diameter`, `density`, `specific-surface-area`, "
                               f"found {known}", node)
        if size is None:
            size = 6.0 / (density * area)
        elif density is None:
            density = 6.0 / (size * area)
        geometric = 6.0 / (density * size)
    else:
        if given["diameter"] is not None:
            raise reader.error(f"{what} is a sheet: give `thickness` and `lateral-size`, not `diameter`", node,
                               "diameter")
        for key in ("thickness", "lateral-size", "density"):
            if given[key] is None:
                raise reader.error(f"{what} (a sheet) is missing `{key}` (e.g. `{_EXAMPLES[key]}`)", node)
        size, lateral = given["thickness"], given["lateral-size"]
        if lateral < size:
            raise reader.error(f"`lateral-size` of {what} is smaller than its thickness; a sheet is wider than "
                               "thick", node, "lateral-size")
        geometric = (2.0 / size + 4.0 / lateral) / density
    if area is None:
        area = geometric
    elif abs(area / geometric - 1) > GEOMETRY_TOLERANCE:
        raise reader.error(
            f"`specific-surface-area` of {what} is {area * M2_PER_DM2:.4g} m²/g, but its "
            f"{'diameter' if shape == 'sphere' else 'thickness, lateral size'} and density give "
            f"{geometric * M2_PER_DM2:.4g} m²/g for a {shape}; give {'two of the three' if shape == 'sphere' else 'the geometry only'}"
            " (a porous material's BET area: give it with the density and no size)", node, "specific-surface-area")
    dose = 0.0
    if "dose" in node:
        dose = _mass_dose(reader, node, what)
    return Particle(species=name, shape=shape, molar_mass=molar_mass, density=density, size=size,
                    specific_area=area, site_density=given["site-density"], lateral_size=lateral, dose=dose,
                    ref=reader.string(node, "ref", what), note=reader.string(node, "note", what, default="") or "",
                    location=Location(str(reader.path), reader.line(node)))


def _mass_dose(reader, node, what) -> float:
    try:
        return mass_concentration_of(node["dose"], f"`dose` of {what}")
    except (UnitError, ConditionsError) as exc:
        raise reader.error(str(exc), node, "dose") from None


# ---------------------------------------------------------------- derived quantities


def area_per_mole(p: Particle) -> float:
    """Surface area per mole of formula units [m² mol⁻¹]."""
    return p.specific_area * p.molar_mass * M2_PER_DM2


def particle_volume(p: Particle) -> float:
    """Volume of one particle [L] (= dm³)."""
    if p.shape == "sphere":
        return math.pi * p.size ** 3 / 6.0
    return p.lateral_size ** 2 * p.size


def sites_per_unit(p: Particle) -> float:
    """Surface sites per formula unit [mol mol⁻¹]."""
    return p.specific_area * p.molar_mass * p.site_density / AVOGADRO


def particles_per_unit(p: Particle) -> float:
    """Particles per formula unit [mol mol⁻¹]: M_w/(ρ·V_p·N_A)."""
    return p.molar_mass / (p.density * particle_volume(p) * AVOGADRO)


def describe(p: Particle, concentration: float) -> dict:
    """Quantities at ``concentration`` [M] of formula units, each (value, unit): mass concentration [g L⁻¹],
    surface area [m² L⁻¹], surface sites [M], particles [M], specific surface area [m² g⁻¹], size [nm]."""
    return {
        "mass_concentration": (concentration * p.molar_mass, "g/L"),
        "surface_area": (concentration * area_per_mole(p), "m^2/L"),
        "surface_sites": (concentration * sites_per_unit(p), "M"),
        "particles": (concentration * particles_per_unit(p), "M"),
        "specific_surface_area": (p.specific_area * M2_PER_DM2, "m^2/g"),
        "size": (p.size * M_PER_DM * 1e9, "nm"),
    }


def basis_factor(p: Particle, basis: str) -> Unit:
    """The factor (canonical value and dimensions) that turns [formula units] into the ``basis`` quantity."""
    if basis == "area":
        return Unit(p.specific_area * p.molar_mass, tuple(a - n for a, n in zip(AREA, AMOUNT)))
    if basis == "site":
        return Unit(sites_per_unit(p), DIMENSIONLESS)
    if basis == "particle":
        return Unit(particles_per_unit(p), DIMENSIONLESS)
    return Unit(p.molar_mass, _MOLAR_MASS)


def rate_basis(reader, rate_node, reaction, law_species, particles: dict, what: str, law=None,
               law_constants=()) -> Unit | None:
    """The factor a reaction's ``rate: {per: ...}`` constant is multiplied by (None without ``per``).

    The reaction must involve exactly one particle species, at first order: as a reactant with coefficient 1,
    or in its ``law`` (``law_constants`` as stored), which must then be proportional to it (checked by
    doubling the particle at a sample state).
    """
    if "per" not in rate_node:
        return None
    basis = rate_node["per"]
    if basis not in BASES:
        raise reader.error(f"`per` of {what} must be one of {', '.join(BASES)}, found `{basis}`", rate_node, "per")
    key = "k_ref" if "k_ref" in rate_node else "k"
    value = rate_node.get(key)
    if not isinstance(value, str):
        raise reader.error(f"`{key}` of {what} is per {basis}: write its unit (e.g. "
                           f"`{_BASIS_EXAMPLES[basis]}`), found `{value}`", rate_node, key)
    reactants = dict(reaction.reactants)
    used = sorted((set(reactants) | set(law_species)) & set(particles))
    if len(used) != 1:
        found = "none" if not used else ", ".join(used)
        raise reader.error(f"{what} gives its constant per {basis}, so it must involve exactly one particle "
                           f"species (declared under `particles`); found {found}", rate_node, "per")
    if not law_species:
        if reactants.get(used[0], 1) != 1:
            raise reader.error(f"{what} gives its constant per {basis}, so it must be first order in "
                               f"`{used[0]}`; found coefficient {reactants[used[0]]}", rate_node, "per")
    elif law is not None and not _proportional(law, law_constants, law_species, used[0]):
        raise reader.error(f"{what} gives its constant per {basis}, so its law must be proportional to "
                           f"[{used[0]}] (e.g. `[{used[0]}] * mm([S], Km)`)", rate_node, "per")
    return basis_factor(particles[used[0]], basis)


def _proportional(law, constants, species, particle) -> bool:
    """Whether ``law`` doubles when [particle] doubles, at a state of 0.1 mM everywhere and time 1 s."""
    values = {name: value for name, value, _ in constants}
    values.update({name: 1e-4 for name in species}, time=1.0)
    base = float(evaluate(law, values))
    values[particle] = 2e-4
    doubled = float(evaluate(law, values))
    return math.isfinite(base) and base != 0 and abs(doubled / base - 2.0) < 1e-9


_BASIS_EXAMPLES = {"area": "2e-9 m s^-1", "site": "5 M^-1 s^-1", "particle": "1.1e5 s^-1",
                   "mass": "2.4e-6 mol g^-1 s^-1"}


def divide_dims(dims, factor: Unit) -> tuple:
    """Dimensions of a constant that ``factor`` turns into one of ``dims``."""
    return tuple(a - b for a, b in zip(dims, factor.dims))


# ---------------------------------------------------------------- doses


def _is_bare(value) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    try:
        float(str(value).strip())
    except ValueError:
        return False
    return True


def mass_concentration_of(value, what: str) -> float:
    """A mass concentration [g L⁻¹] from text such as ``"50 ug/mL"``; a bare number or another unit is refused."""
    expected = "a mass concentration such as `50 ug/mL`"
    if isinstance(value, bool) or _is_bare(value) or not isinstance(value, str):
        raise ConditionsError(f"{what}: expected {expected} (a bare number has no unit), found `{value}`")
    try:
        grams = parse_quantity(value, _MASS_CONCENTRATION, "g/L", what)
    except UnitError:
        raise ConditionsError(f"{what}: expected {expected}, found `{value}`") from None
    if not grams > 0:
        raise ConditionsError(f"{what} must be positive, found `{value}`")
    return grams


def mass_or_number_dose(p: Particle, dose, what: str) -> float | None:
    """Formula units [M] of ``dose`` written as a mass concentration or particles per volume; None for any other
    value (a molar concentration, a bare number), which the caller reads its own way."""
    if isinstance(dose, bool) or not isinstance(dose, str) or _is_bare(dose):
        return None
    for dims, convert in ((_MASS_CONCENTRATION, lambda g: g / p.molar_mass),
                          (_NUMBER_DENSITY, lambda n: n / AVOGADRO / particles_per_unit(p))):
        try:
            value = parse_quantity(dose, dims, "1", what)
        except UnitError:
            continue
        if not value > 0:
            raise ConditionsError(f"{what} must be positive, found `{dose}`")
        return convert(value)
    return None


def formula_units(p: Particle, dose, what: str = "`dose`") -> float:
    """Formula units [M] of a particle dose: a mass concentration (``"50 ug/mL"``) or a number of particles per
    volume (``"1e11 mL^-1"``). A molar dose is refused — formula units or particles? — as is a bare number.

    Raises
    ------
    ConditionsError
        One line naming ``what``, what was expected and what was found.
    """
    expected = "a mass concentration such as `50 ug/mL` or particles per volume such as `1e11 mL^-1`"
    if isinstance(dose, bool) or _is_bare(dose) or not isinstance(dose, str):
        raise ConditionsError(f"{what}: a bare number is ambiguous for nanoparticle catalyst `{p.species}`; "
                              f"expected {expected}, found `{dose}`")
    units = mass_or_number_dose(p, dose, what)
    if units is not None:
        return units
    try:
        parse_quantity(dose, CONCENTRATION, "M", what)
    except UnitError:
        raise ConditionsError(f"{what}: expected {expected} for nanoparticle catalyst `{p.species}`, "
                              f"found `{dose}`") from None
    raise ConditionsError(f"{what}: a molar dose of nanoparticle catalyst `{p.species}` is ambiguous (formula "
                          f"units or particles?); expected {expected}, found `{dose}`")
