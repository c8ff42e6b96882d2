# %% [markdown]
# # Stochastic Fenton chemistry in one lysosome
#
# A lysosome (~0.1 fL, pH 5) holds a few thousand H₂O₂ molecules and ~1,000 Fe²⁺ ions at 20 µM; ·OH exists as a
# handful of molecules at a time. Exact SSA trajectories show how much one lysosome differs from the next.

# %%
import matplotlib.pyplot as plt
import numpy as np

import fentonsim as fs
from fentonsim import plotting

# %% [markdown]
# ## 500 exact trajectories
# Each trajectory's random stream depends only on (seed, run index), so the ensemble is reproducible
# whatever the number of threads.

# %%
model = [fs.MECHANISMS / "iron.yaml", fs.MECHANISMS / "glutathione.yaml"]
ens = fs.simulate(model, "ssa", conditions="lysosome", initial={"Fe+2": "20 uM"}, t_end="10 min", n_points=61,
                  runs=500, seed=2026)
print(f"{ens.attrs['runs']} runs, {ens.attrs['algorithm']} method, V = {ens.attrs['volume_L']:g} L, "
      f"{ens.attrs['n_events']:,} events in {ens.attrs['wall_time_s']:.2f} s")
ax = plotting.plot_ensemble_fan(ens, "peroxide", count_axis=True)

# %% [markdown]
# ## ·OH per lysosome: mean with a confidence interval, and the spread between lysosomes

# %%
per_run = fs.metrics(ens, dose=20e-6)
made = per_run["oh_produced"].values * ens.attrs["molecules_per_molar"]   # molecules per lysosome
summary = fs.summarize(per_run)
low, high = summary["oh_produced"].sel(statistic=["ci_low", "ci_high"]).values * ens.attrs["molecules_per_molar"]
print(f"·OH made per lysosome: mean {made.mean():.0f} (95 % CI {low:.0f}–{high:.0f}), sd {made.std(ddof=1):.0f}, "
      f"5–95 % of lysosomes {np.percentile(made, 5):.0f}–{np.percentile(made, 95):.0f} molecules")

# %% [markdown]
# ## The deterministic answer for comparison
# The rate equations give the mean of the stochastic process when numbers are large; here they agree with
# the ensemble mean within its confidence interval.

# %%
ode = fs.simulate(model, conditions="lysosome", initial={"Fe+2": "20 uM"}, t_end="10 min")
print(f"ODE: {float(fs.metrics(ode)['oh_produced']) * ens.attrs['molecules_per_molar']:.0f} molecules")
plt.show()
