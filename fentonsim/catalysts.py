"""Catalysts: a mechanism (or several merged) plus the species a metal dose goes into.

The built-in ones put each metal in a cell: the metal file merged with glutathione.yaml, so the presets' GSH
scavenges ·OH and reduces the metal. Compare, sweeps and uncertainty runs name catalysts; this module sits
below all of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .data import mechanism_directory, resolve_mechanism_path
from .errors import ConditionsError

MECHANISM_DIRECTORY = mechanism_directory()
#: The metal dose of every catalyst unless a run says otherwise.
DEFAULT_DOSE = "20 uM"
PROBE_FILE = MECHANISM_DIRECTORY / "probes.yaml"
GSH_FILE = MECHANISM_DIRECTORY / "glutathione.yaml"


@dataclass(frozen=True)
class Catalyst:
    """A catalyst to compare: ``files`` merged into one mechanism, dosed into ``species``.

    ``alternative`` names a parameter set with the other published answer to the catalyst's biggest open
    question — which oxidant its reaction with H2O2 makes (·OH, or Fe(IV), Cu(III), Mn(IV)); compare runs it
    beside the default so the table shows both answers instead of hiding one.
    """

    name: str
    files: tuple[Path, ...]
    species: str
    label: str = ""
    caveat: str = ""
    alternative: str = ""

    @property
    def display(self) -> str:
        return self.label or self.name


BUILT_IN = {
    "iron": Catalyst("iron", (MECHANISM_DIRECTORY / "iron.yaml", GSH_FILE), "Fe+2", "Fe²⁺",
                     "Fe(III) precipitates near neutral pH (Rose & Waite 2003 constants; their pH law is a "
                     "fentonsim assumption); all Fe(II) + H2O2 gives ·OH by default, but near neutral pH part may "
                     "give Fe(IV) (Bataineh et al. 2012; no measured fraction: `ferryl-neutral` splits it 50/50).",
                     alternative="ferryl-neutral"),
    "copper": Catalyst("copper", (MECHANISM_DIRECTORY / "copper.yaml", GSH_FILE), "Cu+", "Cu⁺",
                       "Cu(I) is held as the glutathione complex (Morgan et al. 2017), whose reactions with O2 "
                       "and H2O2 have no published constants (analogue values, wide ranges: see the band); GSH "
                       "feeds electrons to O2 through it, so ·OH can exceed the initial H2O2 while O2 is "
                       "resupplied. All Cu(I) + H2O2 gives ·OH by default; Pham et al. (2013) find Cu(III) at "
                       "pH 8 (`CuIII-Pham-2013`).", alternative="CuIII-Pham-2013"),
    "manganese": Catalyst("manganese", (MECHANISM_DIRECTORY / "manganese.yaml", GSH_FILE), "Mn+2", "Mn²⁺",
                          "the Mn(II)/HCO3⁻ pathway (M10, rate ∝ [Mn][H2O2][HCO3⁻]³, Stadtman et al. 1990) has a "
                          "provisional order-of-magnitude constant (1e4 M⁻⁴ s⁻¹, range 1e3–1e5; no published "
                          "value) and makes Mn(IV)=O, not ·OH, by default; `Stadtman-1990-OH` makes ·OH.",
                          alternative="Stadtman-1990-OH"),
}
DEFAULT_CATALYSTS = tuple(BUILT_IN)
#: Nanomaterials (mechanisms with a `particles:` entry), dosed by mass (fentonsim.dosing); not in the default
#: comparison, whose table stays the three metal ions.
NANOMATERIALS = {
    "fe3o4": Catalyst("fe3o4", (MECHANISM_DIRECTORY / "fe3o4_nanozyme.yaml", GSH_FILE), "Fe3O4(s)", "Fe₃O₄ NPs",
                      "every kinetic constant is from abstracts or a curated database, not a paper body (~). "
                      "Surface activation of H2O2 per area from the one pH 7.4 Km/Vmax pair found (TMB assay, 30 °C); "
                      "·OH yield of the TMB-free cycle assumed 0.01 (no ·OH by ESR at neutral pH; `all-OH` sets 1); "
                      "Fe(II) release rate an order-of-magnitude bound.", alternative="all-OH"),
    "cuo2": Catalyst("cuo2", (MECHANISM_DIRECTORY / "cuo2_nanodots.yaml", GSH_FILE), "CuO2(s)", "CuO₂ nanodots",
                     "releases Cu2+ + H2O2 in acid (Lin et al. 2019, seen only as cited); the release rate (half-life "
                     "1 h at pH 5.5, ∝ [H+]) is an order-of-magnitude assumption (range ×30 either way); the copper "
                     "chemistry carries copper's caveats.", alternative="CuIII-Pham-2013"),
    "mno2": Catalyst("mno2", (MECHANISM_DIRECTORY / "mno2_nanosheets.yaml", GSH_FILE), "MnO2(s)",
                     "MnO₂ nanosheets",
                     "MnO2 + 2 GSH → Mn2+ + GSSG at an order-of-magnitude surface constant (2e-3 L m⁻² s⁻¹, range "
                     "1e-5–1e-1; no measured value seen); Mn2+ makes Mn(IV)=O, not ·OH, with HCO3⁻ (manganese's "
                     "provisional M10); `Stadtman-1990-OH` makes ·OH.", alternative="Stadtman-1990-OH"),
}


def parse_catalyst(spec) -> Catalyst:
    """A Catalyst from a built-in name (``iron``, ``copper``, ``manganese``; nanomaterials ``fe3o4``, ``cuo2``,
    ``mno2``), ``FILE.yaml:SPECIES`` or a Catalyst.

    A user file is merged with glutathione.yaml (read once if the file includes it already).
    """
    if isinstance(spec, Catalyst):
        return spec
    text = str(spec).strip()
    if text in BUILT_IN:
        return BUILT_IN[text]
    if text in NANOMATERIALS:
        return NANOMATERIALS[text]
    path_text, sep, species = text.rpartition(":")
    if not sep or not path_text or not species:
        raise ConditionsError(f"unknown catalyst `{text}`: expected one of {', '.join([*BUILT_IN, *NANOMATERIALS])} or "
                              "FILE.yaml:SPECIES (the species the dose goes into, e.g. `my_cu.yaml:Cu+`)")
    path = resolve_mechanism_path(path_text)  # a shipped mechanism may be named: `copper:Cu+`
    if not path.exists():
        raise ConditionsError(f"catalyst file `{path}` not found")
    return Catalyst(path.stem, (path, GSH_FILE), species)
