"""The shipped mechanism library: clean, referenced, documented, and runnable by both solvers at the
three pH values users compare (lysosome 5.0, tumour 6.5, normal 7.4)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import fentonsim
from fentonsim.mechanism.overrides import with_rates
from fentonsim.mechanism.table import tables_markdown
from fentonsim.network import compile_network

from conftest import MECHANISMS

FILES = sorted(MECHANISMS.glob("*.yaml"))
PRESETS = {5.0: "lysosome", 6.5: "tme", 7.4: "normal"}
# What each file is dosed with so that its chemistry actually runs.
DOSES = {
    "ros_core.yaml": {"H2O2": "100 uM", "HO*": "1 uM"},
    "carbonate.yaml": {"H2O2": "100 uM", "HO*": "1 uM"},
    "glutathione.yaml": {"HO*": "1 uM"},
    "iron.yaml": {"Fe+2": "20 uM"},
    "copper.yaml": {"Cu+": "20 uM"},
    "manganese.yaml": {"Mn+2": "20 uM", "HO*": "1 uM"},
    "bimetallic.yaml": {"Fe+2": "10 uM", "Cu+": "10 uM", "Mn+2": "10 uM"},
    "probes.yaml": {"HO*": "1 uM", "TA-2": "0.5 mM", "DMPO": "1 mM", "HCOO-": "1 mM", "MB+": "10 uM"},
    "release.yaml": {"Fe3O4(s)": "10 uM", "CuO2(s)": "10 uM", "MnO2(s)": "10 uM", "CaO2(s)": "10 uM"},
    "fe3o4_nanozyme.yaml": {"Fe3O4(s)": "0.2 mM", "H2O2": "100 uM", "TMB": "0.5 mM"},
    "cuo2_nanodots.yaml": {"CuO2(s)": "50 uM"},
    "mno2_nanosheets.yaml": {"MnO2(s)": "50 uM", "GSH": "1 mM"},
}
RELEASE_RATES = {"REL-Fe3O4": 100.0, "REL-CuO2": 100.0, "REL-MnO2": 1e3, "REL-CaO2": 100.0}


def test_every_shipped_file_is_dosed_here():
    assert sorted(f.name for f in FILES) == sorted(DOSES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_mechanism_is_clean_and_fully_referenced(path):
    """`fentonsim validate` finds nothing to warn about; every reaction names a reference that resolves to a
    citation, an evidence flag, and (when its constant is not a user-set 0) an uncertainty."""
    mechanism = fentonsim.load(path)
    assert mechanism.warnings == ()
    references = {r.key: r for r in mechanism.references}
    for reaction in mechanism.reactions:
        assert reaction.ref in references or reaction.ref.startswith("10."), reaction.id
        assert reaction.evidence in ("confirmed", "unconfirmed"), reaction.id
        if reaction.rate.k > 0:
            assert reaction.uncertainty is not None, reaction.id
        else:
            assert reaction.evidence == "unconfirmed" and reaction.note, reaction.id
    for group in mechanism.speciation:
        assert group.ref in references, group.pool


def _conserved(ds, network):
    """Element and charge totals along the run minus what inputs delivered: constant for a correct run."""
    totals = ds["concentration"].values @ network.conservation.T
    return totals - totals[0]


@pytest.mark.parametrize("ph", sorted(PRESETS))
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_mechanism_runs_under_the_ode_solver(path, ph):
    """1 h at the preset for this pH: finite, non-negative, elements and charge conserved to 1e-9 relative."""
    rates = RELEASE_RATES if path.name == "release.yaml" else None
    network = compile_network(with_rates(fentonsim.load(path), rates))
    ds = fentonsim.simulate(network, conditions=PRESETS[ph], initial=DOSES[path.name], t_end=3600, n_points=11)
    c = ds["concentration"].values
    assert np.all(np.isfinite(c)) and c.min() >= 0
    scale = np.abs(c @ network.conservation.T).max(axis=0) + 1e-30
    assert np.all(np.abs(_conserved(ds, network)) <= 1e-9 * scale)


@pytest.mark.parametrize("ph", sorted(PRESETS))
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_mechanism_runs_under_the_ssa(path, ph):
    """60 s of exact SSA in a lysosome-sized 0.1 fL at the preset for this pH: every run completes, counts stay
    non-negative and element totals are conserved exactly (integer arithmetic)."""
    rates = RELEASE_RATES if path.name == "release.yaml" else None
    ds = fentonsim.simulate(path, "ssa", conditions=PRESETS[ph], initial=DOSES[path.name], rates=rates,
                            volume="0.1 fL", t_end=60, n_points=4, runs=2, seed=11)
    assert np.all(ds["status"].values == 0)
    counts = ds["count"].values
    assert counts.min() >= 0
    network = compile_network(with_rates(fentonsim.load(path), rates))
    totals = np.einsum("rts,cs->rtc", counts.astype(float), network.conservation)
    assert np.all(totals == totals[:, :1, :])


@pytest.mark.parametrize("catalyst, ion", [("iron.yaml", "Fe+2"), ("copper.yaml", "Cu+"),
                                           ("manganese.yaml", "Mn+2")])
def test_catalyst_with_gsh_and_probe_runs_at_tumour_and_normal_pH(catalyst, ion):
    """The combination a comparison uses — catalyst + glutathione + probes — loads (shared files once) and
    integrates at pH 6.5 and 7.4 with the presets' H2O2, GSH and bicarbonate."""
    files = [MECHANISMS / catalyst, MECHANISMS / "glutathione.yaml", MECHANISMS / "probes.yaml"]
    for preset in ("tme", "normal"):
        ds = fentonsim.simulate(files, conditions=preset, initial={ion: "20 uM", "TA-2": "0.5 mM"},
                                t_end=3600, n_points=3)
        assert ds.attrs["ignored_inputs"] == ""
        assert float(ds["concentration"].isel(time=-1).sel(species="HTA-2")) >= 0


MARKER_START = "<!-- reaction tables: generated by `fentonsim table mechanisms/*.yaml`; do not edit by hand -->"
MARKER_END = "<!-- end of reaction tables -->"


def test_readme_reaction_tables_are_complete_and_current():
    """mechanisms/README.md tables every reaction of every shipped file (equation, k with units, where measured,
    source, evidence) exactly as `fentonsim table` prints them now."""
    readme = (MECHANISMS / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(MARKER_START) + r"\n(.*?)" + re.escape(MARKER_END), readme, re.S)
    assert match, "mechanisms/README.md lacks the generated reaction tables"
    assert match.group(1).strip() == tables_markdown(FILES).strip(), (
        "reaction tables are stale: regenerate with `fentonsim table mechanisms/*.yaml`")
    for path in FILES:
        for reaction in fentonsim.load(path).reactions:
            assert f"| {reaction.id} |" in match.group(1), reaction.id
