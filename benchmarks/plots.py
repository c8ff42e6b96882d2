"""Plots of how cost grows with work (from benchmarks.bench_growth.series), written next to the JSON."""
from __future__ import annotations

from pathlib import Path


def write_growth_plots(series: dict, directory) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fentonsim.plotting import PALETTE, save_figure

    fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
    t_end, seconds, steps = zip(*series["ode_time"])
    axes[0].loglog(t_end, [s * 1e3 for s in seconds], "o-", color=PALETTE[0], label="fentonsim rodas5p")
    axes[0].set_xlabel("simulated time [s]")
    axes[0].set_ylabel("wall time per solve [ms]")
    axes[0].set_title("ODE, iron at pH 6.5: cost vs simulated time")
    axes[0].legend(fontsize="small")
    volume, per_run, events, rate = zip(*series["ssa_volume"])
    axes[1].loglog(events, [s * 1e3 for s in per_run], "o-", color=PALETTE[1], label="time per trajectory")
    axes[1].set_xlabel("events per trajectory [1] (volume 1e-16 … 1e-14 L)")
    axes[1].set_ylabel("wall time per trajectory [ms]")
    axes[1].set_title("SSA, iron: cost vs molecule count")
    twin = axes[1].twinx()
    twin.semilogx(events, [r / 1e6 for r in rate], "s--", color=PALETTE[2], label="events/s")
    twin.set_ylabel("throughput [M events/s]")
    size, direct, nrm = zip(*series["reactions"])
    axes[2].loglog(size, [d / 1e6 for d in direct], "o-", color=PALETTE[0], label="direct")
    axes[2].loglog(size, [n / 1e6 for n in nrm], "s-", color=PALETTE[5], label="next-reaction")
    axes[2].set_xlabel("reactions in the network [1]")
    axes[2].set_ylabel("throughput, 1 thread [M events/s]")
    axes[2].set_title("SSA on generated networks")
    axes[2].legend(fontsize="small")
    path = Path(directory) / "growth.png"
    save_figure(fig, path)
    plt.close(fig)
    return path
