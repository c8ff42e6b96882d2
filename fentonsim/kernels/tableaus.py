"""Coefficients of the Rosenbrock methods of kernels/rosenbrock.py, packed into
arrays indexed by method (RODAS4 = 0, RODAS5P = 1). The kernels take the
method as a compile-time constant, so each method's version reads its own
rows as constants (one compiled version per method, none per condition).

Both methods are written in the W-transformed form of Hairer & Wanner
(*Solving Ordinary Differential Equations II*, 2nd ed. 1996, §IV.7):

    (I/(hγ) − J)·u_i = f(t + c_i·h, y + Σ_j a_ij·u_j) + Σ_j (c_ij/h)·u_j + h·d_i·∂f/∂t,
    y_new = y + Σ_j b_j·u_j,

and both are stiffly accurate: b equals the last row of a plus a 1 in the last
place, so u of the last stage is the embedded error estimate. The continuous
extension is y(t + θh) = (1−θ)·y + θ·(y_new + (1−θ)·Σ_m θ^m·K_m),
K_m = Σ_j H[m, j]·u_j.

* RODAS4: order 4(3), 6 stages, dense output of order 3; Hairer & Wanner's
  RODAS code (the coefficients of its RODAS4 choice).
* RODAS5P: order 5(4), 8 stages, dense output of order 4; Steinebach, G.
  "Construction of Rosenbrock–Wanner method Rodas5P and numerical benchmarks
  within the Julia Differential Equations package", BIT Numer. Math. 63, 27
  (2023). Its higher order halves the steps at the tight tolerances the
  Fenton benchmarks use (rtol 1e-8: 254 vs 423 steps on the iron network).
"""
from __future__ import annotations

import numpy as np

RODAS4, RODAS5P = 0, 1
#: names accepted by the Python layer, in method-index order
NAMES = ("rodas4", "rodas5p")
MAX_STAGES = 8
MAX_DENSE = 3


def _strict_lower(values, n):
    """(n, n) matrix with ``values`` filling the strict lower triangle row by row."""
    matrix = np.zeros((n, n))
    rows, cols = np.tril_indices(n, -1)
    matrix[rows, cols] = values
    return matrix


def _stiffly_accurate(a_inner, n_stages):
    """Full a and b of a stiffly accurate method given its first rows: each further stage (one for
    RODAS4, two for RODAS5P) takes the previous stage's argument plus that stage's increment, and b is
    the last argument plus the last increment."""
    n_inner = a_inner.shape[0]
    a = np.zeros((n_stages, n_stages))
    a[:n_inner, :n_inner] = a_inner
    for stage in range(n_inner, n_stages):
        a[stage, :stage] = a[stage - 1, :stage]
        a[stage, stage - 1] = 1.0
    b = a[-1].copy()
    b[-1] = 1.0
    return a, b


_RODAS4_A = _strict_lower([
    1.544,
    0.9466785280815826, 0.2557011698983284,
    3.314825187068521, 2.896124015972201, 0.9986419139977817,
    1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950,
], 5)
_RODAS4_C = _strict_lower([
    -5.6688,
    -2.430093356833875, -0.2063599157091915,
    -0.1073529058151375, -9.594562251023355, -20.47028614809616,
    7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160,
    8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054,
], 6)
_RODAS4 = dict(
    gamma=0.25, stages=6, c=_RODAS4_C,
    nodes=[0.0, 0.386, 0.21, 0.63, 1.0, 1.0],
    d=[0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0],
    h=[[10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662, 0.0],
       [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872, 0.0]],
    embedded_order=3,
)
_RODAS4["a"], _RODAS4["b"] = _stiffly_accurate(_RODAS4_A, 6)

_RODAS5P_A = _strict_lower([
    3.0,
    2.849394379747939, 0.45842242204463923,
    -6.954028509809101, 2.489845061869568, -10.358996098473584,
    2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641,
    -7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946,
], 6)
_RODAS5P_C = _strict_lower([
    -14.155112264123755,
    -17.97296035885952, -2.859693295451294,
    147.12150275711716, -1.41221402718213, 71.68940251302358,
    165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306,
    24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125, -0.6610691825249471,
    30.91273214028599, -3.1208243349937974, 77.79954646070892, 34.28646028294783, -19.097331116725623,
    -28.087943162872662,
    37.80277123390563, -3.2571969029072276, 112.26918849496327, 66.9347231244047, -40.06618937091002,
    -54.66780262877968, -9.48861652309627,
], 8)
_RODAS5P = dict(
    gamma=0.21193756319429014, stages=8, c=_RODAS5P_C,
    nodes=[0.0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716, 0.4288403609558664, 1.0, 1.0, 1.0],
    d=[0.21193756319429014, -0.42387512638858027, -0.3384627126235924, 1.8046452872882734, 2.325825639765069,
       0.0, 0.0, 0.0],
    h=[[25.948786856663858, -2.5579724845846235, 10.433815404888879, -2.3679251022685204, 0.524948541321073,
        1.1241088310450404, 0.4272876194431874, -0.17202221070155493],
       [-9.91568850695171, -0.9689944594115154, 3.0438037242978453, -24.495224566215796, 20.176138334709044,
        15.98066361424651, -6.789040303419874, -6.710236069923372],
       [11.419903575922262, 2.8879645146136994, 72.92137995996029, 80.12511834622643, -52.072871366152654,
        -59.78993625266729, -0.15582684282751913, 4.883087185713722]],
    embedded_order=4,
)
_RODAS5P["a"], _RODAS5P["b"] = _stiffly_accurate(_RODAS5P_A, 8)


def _pack(methods):
    n = len(methods)
    gamma = np.zeros(n)
    stages = np.zeros(n, dtype=np.int64)
    dense = np.zeros(n, dtype=np.int64)
    exponent = np.zeros(n)
    a = np.zeros((n, MAX_STAGES, MAX_STAGES))
    c = np.zeros((n, MAX_STAGES, MAX_STAGES))
    b = np.zeros((n, MAX_STAGES))
    nodes = np.zeros((n, MAX_STAGES))
    d = np.zeros((n, MAX_STAGES))
    h = np.zeros((n, MAX_DENSE, MAX_STAGES))
    for m, method in enumerate(methods):
        s = method["stages"]
        gamma[m], stages[m] = method["gamma"], s
        # The step-size controller scales by err^(−1/(q+1)), q the order of the embedded estimate.
        exponent[m] = 1.0 / (method["embedded_order"] + 1)
        a[m, :s, :s], c[m, :s, :s], b[m, :s] = method["a"], method["c"], method["b"]
        nodes[m, :s], d[m, :s] = method["nodes"], method["d"]
        rows = np.asarray(method["h"])
        dense[m] = rows.shape[0]
        h[m, :rows.shape[0], :s] = rows
    return gamma, stages, dense, exponent, a, c, b, nodes, d, h


GAMMA, STAGES, DENSE_TERMS, ORDER_EXPONENT, A, C, B, NODES, D, H = _pack([_RODAS4, _RODAS5P])
