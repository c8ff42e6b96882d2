"""Stochastic Fenton chemistry in one lysosome (0.1 fL, pH 5): how much do runs differ?

Runs 500 exact SSA trajectories of the shipped iron mechanism with 20 µM Fe(II)
and the lysosome preset's 100 µM H2O2, and prints the spread of the ·OH made
per lysosome and of Fe(II) left after 10 minutes.
"""
import numpy as np

import fentonsim as fs

ens = fs.simulate("mechanisms/iron.yaml", "ssa", conditions="lysosome", initial={"Fe(II)": "20 uM"},
                  t_end="10 min", n_points=61, runs=500, seed=2026)
made = ens.produced.sel(species="hydroxyl").values * ens.attrs["molecules_per_molar"]   # molecules per run
fe2 = ens["count"].sel(species="Fe(II)").isel(time=-1).values
print(f"{ens.attrs['runs']} runs, {ens.attrs['algorithm']} method, V = {ens.attrs['volume_L']:g} L, "
      f"{ens.attrs['n_events']:,} events in {ens.attrs['wall_time_s']:.2f} s")
print(f"·OH made per lysosome: mean {made.mean():.0f}, sd {made.std(ddof=1):.0f}, "
      f"5–95 % {np.percentile(made, 5):.0f}–{np.percentile(made, 95):.0f} molecules")
print(f"Fe(II) left at 10 min: mean {fe2.mean():.1f}, range {fe2.min()}–{fe2.max()} molecules")
