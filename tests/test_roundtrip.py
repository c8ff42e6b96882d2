"""Round trips through the canonical dump: ``load_mechanism(dump_mechanism(m)) == m``
for hypothesis-generated and shipped mechanisms, deterministic dump text, and
the conservation laws of the compiled network."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from fentonsim import compile_network, dump_mechanism, load_mechanism
from strategies import mechanisms

MECHANISMS = Path(__file__).resolve().parent.parent / "mechanisms"
SHIPPED = sorted(MECHANISMS.glob("*.yaml"))

# Generating a mechanism draws many values; the examples are cheap to check but slow to build.
GENERATED = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_text(text: str, parameter_set: str | None = None):
    """Load mechanism YAML ``text`` through a temporary file (not tmp_path: hypothesis reuses fixtures)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "dumped.yaml"
        path.write_text(text, encoding="utf-8")
        return load_mechanism(path, parameter_set=parameter_set)


def _differences(a, b) -> str:
    """Names of the Mechanism fields that differ, for a readable assertion message."""
    fields = ("name", "description", "species", "speciation", "reactions", "references", "parameter_sets",
              "defaults", "active_parameter_set")
    out = []
    for field in fields:
        x, y = getattr(a, field), getattr(b, field)
        if x != y:
            if isinstance(x, tuple) and isinstance(y, tuple) and len(x) == len(y):
                pairs = [f"  {p!r}\n  {q!r}" for p, q in zip(x, y) if p != q]
                out.append(f"{field}:\n" + "\n".join(pairs))
            else:
                out.append(f"{field}: {x!r} != {y!r}")
    return "\n".join(out)


@GENERATED
@given(mechanisms())
def test_generated_mechanism_roundtrips(mechanism):
    """load_mechanism(dump_mechanism(m)) == m for any valid generated mechanism."""
    loaded = load_text(dump_mechanism(mechanism))
    assert loaded == mechanism, _differences(mechanism, loaded)


@settings(GENERATED, max_examples=30)
@given(mechanisms())
def test_dump_is_deterministic_and_idempotent(mechanism):
    """Dumping twice gives identical text, and dumping the reloaded mechanism gives it again."""
    text = dump_mechanism(mechanism)
    assert dump_mechanism(mechanism) == text
    assert dump_mechanism(load_text(text)) == text


@settings(GENERATED, max_examples=25)
@given(mechanisms())
def test_parameter_set_survives_dump(mechanism):
    """Loading a dump with a parameter set applied equals applying it to the original mechanism."""
    text = dump_mechanism(mechanism)
    for parameter_set in mechanism.parameter_sets:
        loaded = load_text(text, parameter_set=parameter_set.name)
        expected = mechanism.with_parameter_set(parameter_set.name)
        assert loaded == expected, _differences(expected, loaded)


def test_shipped_mechanisms_exist():
    """The shipped mechanism directory holds the files the round-trip test is parametrised over."""
    assert {p.name for p in SHIPPED} >= {"ros_core.yaml", "iron.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_mechanism_roundtrips(path):
    """Each shipped mechanism (includes flattened) reloads from its dump unchanged, with identical dump text."""
    mechanism = load_mechanism(path)
    text = dump_mechanism(mechanism)
    loaded = load_text(text)
    assert loaded == mechanism, _differences(mechanism, loaded)
    assert dump_mechanism(loaded) == text
    for parameter_set in mechanism.parameter_sets:
        assert load_text(text, parameter_set.name) == load_mechanism(path, parameter_set.name)


@settings(GENERATED, max_examples=40)
@given(mechanisms())
def test_compiled_network_conserves(mechanism):
    """compile_network gives net_stoich of shape (n_reactions, n_species) and conservation @ net_stoich.T == 0."""
    network = compile_network(mechanism)
    n_reactions = sum(len(r.branches) + r.reversible for r in mechanism.reactions)
    assert network.net_stoich.shape == (network.n_reactions, network.n_species) == (n_reactions,
                                                                                      network.n_species)
    assert network.conservation.shape == (len(network.conservation_names), network.n_species)
    assert not np.any(network.conservation @ network.net_stoich.T)
    # The network of the reloaded dump is the same network (its hash is the dump's hash).
    assert compile_network(load_text(dump_mechanism(mechanism))).mechanism_sha256 == network.mechanism_sha256
