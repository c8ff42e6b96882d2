"""Physical constants and named thresholds (each says where it is used)."""
from __future__ import annotations

import numpy as np

#: Avogadro constant [mol⁻¹] (CODATA 2018, exact).
AVOGADRO = 6.02214076e23
#: Molar gas constant [J mol⁻¹ K⁻¹] (CODATA 2018, exact).
GAS_CONSTANT = 8.314462618
#: ln(10), used to turn pKa and van 't Hoff enthalpies into factors.
LN10 = float(np.log(10.0))
#: Reference temperature of tabulated constants [K].
STANDARD_TEMPERATURE = 298.15

#: Largest total reaction order an elementary mass-action reaction may have
#: (see mechanism.validate); higher orders are not elementary in solution.
MAX_REACTION_ORDER = 3

#: Tolerance on branching fractions summing to one (see mechanism.validate).
BRANCH_FRACTION_TOLERANCE = 1e-9


def pkw(temperature):
    """Ionic product of water, pKw, at ``temperature`` [K] (array-like).

    Harned & Robinson (1940), Trans. Faraday Soc. 36, 973:
    pKw = 4470.99/T − 6.0875 + 0.01706·T, valid 0–60 °C; 13.995 at 25 °C
    and 13.62 at 37 °C.
    """
    temperature = np.asarray(temperature, dtype=float)
    return 4470.99 / temperature - 6.0875 + 0.01706 * temperature
