"""What a catalyst's dose means: a molar dose of a dissolved metal, or a mass dose of a nanomaterial.

A molecular catalyst (Fe²⁺, Cu⁺, Mn²⁺) is dosed in M, as it always was. A nanoparticle catalyst — a mechanism
whose dosed species has a ``particles:`` entry — is dosed by mass concentration (``"50 ug/mL"``) or particle
number (``"1e11 mL^-1"``), or else gets its file's own ``dose``; a bare number or a molar value is refused for it,
since neither says whether formula units or particles are meant. Either way the run starts from the dosed
species in M (formula units for a solid), and ·OH per metal counts the metal atoms dosed (Fe₃O₄: three per
formula unit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ConditionsError, UnitError
from .mechanism.particles import describe, formula_units, metal_atoms
from .mechanism.schema import Mechanism, Particle
from .units import CONCENTRATION, format_concentration, user_quantity


@dataclass(frozen=True)
class Dose:
    """A catalyst's dose: ``species`` [M] of the dosed species at t = 0, ``metal`` [M] of metal atoms in it,
    ``text`` the dose as tables show it (with its unit), ``detail`` the derived quantities of a particle dose."""

    species: float
    metal: float
    text: str
    detail: str = ""
    particle: Particle | None = None


def catalyst_doses(catalysts, mechanisms: dict, dose, default_molar) -> dict:
    """{catalyst name: Dose}. ``dose`` is None (each catalyst's default: ``default_molar`` for a molecular
    catalyst, its file's ``dose`` for a nanoparticle), one value for every catalyst, or a mapping of catalyst
    names to values (the others get their default).

    Raises
    ------
    ConditionsError
        One line naming the catalyst, what was expected and what was found.
    """
    if isinstance(dose, dict):
        names = {c.name for c in catalysts}
        unknown = sorted(set(dose) - names)
        if unknown:
            raise ConditionsError(f"`dose` names {', '.join(unknown)}, which is not a compared catalyst "
                                  f"({', '.join(sorted(names))})")
        chosen = {c.name: dose.get(c.name) for c in catalysts}
    else:
        chosen = {c.name: dose for c in catalysts}
    return {c.name: catalyst_dose(c, mechanisms[c.name], chosen[c.name], default_molar) for c in catalysts}


def catalyst_dose(catalyst, mechanism: Mechanism, value, default_molar) -> Dose:
    """The :class:`Dose` of one catalyst (see :func:`catalyst_doses`)."""
    particle = {p.species: p for p in mechanism.particles}.get(catalyst.species)
    what = f"dose of catalyst `{catalyst.name}`"
    if particle is None:
        text = default_molar if value is None else value
        try:
            molar = user_quantity(text, CONCENTRATION, "M", f"`dose` of catalyst `{catalyst.name}`")
        except UnitError as exc:
            raise ConditionsError(f"{exc} (`{catalyst.name}` is dosed as {catalyst.species} in M, e.g. '20 uM')") \
                from None
        if not (molar >= 0 and math.isfinite(molar)):
            raise ConditionsError(f"{what} must be a non-negative concentration, found {text!r}")
        if molar == 0:
            raise ConditionsError(f"`dose` must be positive, found {text!r} (catalyst `{catalyst.name}`)")
        return Dose(molar, molar, format_concentration(molar))
    if value is None:
        if not particle.dose > 0:
            raise ConditionsError(f"{what}: its mechanism gives no default `dose` for {particle.species}; give a "
                                  "mass concentration such as '50 ug/mL'")
        units = particle.dose / particle.molar_mass
    else:
        units = formula_units(particle, value, what)
    composition = mechanism.species_by_name()[particle.species].composition
    quantities = describe(particle, units)
    mass = quantities["mass_concentration"][0] * 1e3  # g/L -> µg/mL
    text = f"{mass:.3g} µg/mL"
    size = (f"{quantities['size'][0]:.3g} nm spheres" if particle.shape == "sphere" else
            f"{quantities['size'][0]:.3g} nm × {particle.lateral_size * 1e8:.3g} nm sheets")
    detail = (f"{text} {particle.species} = {format_concentration(units)} formula units "
              f"({format_concentration(units * metal_atoms(composition))} metal); {size}, "
              f"{quantities['specific_surface_area'][0]:.3g} m²/g: {quantities['surface_area'][0]:.3g} m²/L, "
              f"{quantities['surface_sites'][0]:.3g} M surface sites, {quantities['particles'][0]:.3g} M particles")
    return Dose(units, units * metal_atoms(composition), text, detail, particle)
