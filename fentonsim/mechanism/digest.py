"""A mechanism's identity: the SHA-256 of its canonical form.

The canonical form is the ``repr`` of the Mechanism's tree of frozen dataclasses, tuples and floats
(``repr`` of a float round-trips): it covers every value that reaches the numbers and every reference,
but not where the files were or how they were laid out (``Mechanism.files`` is left out of the repr).
It costs about half a millisecond for iron + glutathione, against ~60 ms for a YAML dump, so a compile
cache can key on it (fentonsim.problem) and results can record it (``mechanism_sha256``).
"""
from __future__ import annotations

import hashlib
import re

from .schema import Mechanism

# A field written -0.0 (a generated or computed slope) loads back as 0.0 from a dump: the same value, so the
# same mechanism. Only a whole field value is rewritten, never text inside a quoted string.
_NEGATIVE_ZERO = re.compile(r"(?<=[=(\[, ])-0\.0(?=[,)\]])")
# Compartments (fentonsim.compartments) at their defaults — one volume — and no particles
# (fentonsim.mechanism.particles) are left out, so a mechanism without them keeps the digest it had before
# they existed; any compartment or particle data is hashed.
_ONE_VOLUME = re.compile(r", compartment=''(?=\))|, compartments=\(\), transports=\(\)(?=, particles=\(\)\)$|\)$)"
                         r"|, particles=\(\)(?=\)$)")


def mechanism_digest(mechanism: Mechanism) -> str:
    """Hex SHA-256 of ``repr(mechanism)`` with signed zeros as zeros, the canonical form described in the module
    docstring: a mechanism and the reload of its dump (fentonsim.mechanism.dump) have the same digest."""
    text = _ONE_VOLUME.sub("", _NEGATIVE_ZERO.sub("0.0", repr(mechanism)))
    return hashlib.sha256(text.encode()).hexdigest()
