# %% [markdown]
# # pH and GSH sweeps
#
# How does ·OH output change between lysosomal (pH 5), tumour (6.5) and normal (7.4) acidity, and
# how much does glutathione take? Each mechanism is compiled once; only the conditions change.

# %%
import matplotlib.pyplot as plt
import numpy as np

import fentonsim as fs
from fentonsim import plotting
from fentonsim.compare import condition_grid, ph_curve

# %% [markdown]
# ## ·OH made in 1 h against pH, for each catalyst
# Everything but the pH comes from the tumour preset (100 µM H₂O₂, 10 mM GSH, 20 µM metal).

# %%
curve = ph_curve(["iron", "copper"], np.arange(5.0, 8.01, 0.25), "oh_produced")
print(curve.to_pandas().T.round(8))
ax = plotting.plot_ph_curve(curve)

# %% [markdown]
# ## ·OH that escapes GSH, over pH × GSH, for iron
# GSH scavenges ·OH near the diffusion limit, so what a target (or a probe) can see falls steeply
# with GSH. This is the quantity behind "GSH depletion boosts ·OH".

# %%
grid = condition_grid("iron", np.arange(5.0, 8.01, 0.5), "GSH", [0.0, 1e-4, 1e-3, 1e-2], "oh_escaping_gsh")
print(grid.to_pandas())
ax = plotting.plot_heatmap(grid)
plt.show()
