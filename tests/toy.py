"""Small analytic test networks written as mechanism files, so tests go through the real loader."""
from __future__ import annotations

import textwrap

from fentonsim import compile_network, load_mechanism


def toy_network(tmp_path, species: dict, reactions: list, name="toy"):
    """Compile a mechanism with ``species`` {name: {element: n}} and ``reactions`` [(equation, k, extra)].

    A species entry may carry ``"buffered": "1 M"`` to clamp it at that concentration.

    ``k`` is a string with units; ``extra`` is a YAML fragment (e.g. ``tabulated-as: 2k``) or "".
    """
    lines = [f"kind: mechanism", f"name: {name}",
             "units: {concentration: M, time: s, energy: kJ/mol, temperature: K, volume: L}",
             "references:", "  analytic: {citation: \"test network with a closed-form solution\"}",
             "species:"]
    for sp, composition in species.items():
        composition = dict(composition)
        clamp = composition.pop("buffered", None)
        comp = ", ".join(f"{e}: {n}" for e, n in composition.items())
        clamp = "" if clamp is None else f", buffered: {clamp}"
        lines.append(f"- {{name: {sp}, composition: {{{comp}}}, charge: 0{clamp}}}")
    lines.append("reactions:")
    for i, entry in enumerate(reactions):
        equation, k = entry[0], entry[1]
        extra = entry[2] if len(entry) > 2 else ""
        lines += [f"- id: T{i + 1}", f"  equation: {equation}", f"  rate: {{k: {k}}}", "  ref: analytic"]
        if extra:
            lines.append(textwrap.indent(extra, "  "))
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return compile_network(load_mechanism(path))
