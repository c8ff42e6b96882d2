"""Quick look at the iron mechanism: how pH changes the Fenton rate constant.

Run: python examples/inspect_mechanism.py
"""
from pathlib import Path

import numpy as np

import fentonsim as fs

HERE = Path(__file__).resolve().parent
mechanism = fs.load_mechanism(HERE.parent / "mechanisms" / "iron.yaml")
network = fs.compile_network(mechanism)

pH = np.array([5.0, 6.5, 7.4])
k = network.rate_constants(pH=pH, temperature=298.15)          # shape (3, n_reactions)
fenton = k[:, network.reaction_ids.index("F1-OH")] + k[:, network.reaction_ids.index("F2-OH")]
for p, value in zip(pH, fenton):
    print(f"pH {p:4.1f}: apparent Fe(II) + H2O2 rate constant {value:9.3g} M^-1 s^-1")

for name in ("DeLaat-Gallard-1999", "Walling-1975", "Millero-Sotolongo-1989"):
    alt = fs.compile_network(mechanism.with_parameter_set(name))
    k_alt = alt.rate_constants(pH=7.4, temperature=298.15)
    value = k_alt[alt.reaction_ids.index("F1-OH")] + k_alt[alt.reaction_ids.index("F2-OH")]
    print(f"pH  7.4 with parameter set {name:<24}: {value:9.3g} M^-1 s^-1")
