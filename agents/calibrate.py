"""Plot the stylised facts of the default model: ``python -m liangye.agents.calibrate out.png``.

Three panels: the long-run uptake of servitization without awards (an S), the starting
distribution of service shares (mean near one tenth), and the J-curve of margins against
service share (lowest at the 20-30% inflection). docs/calibration.md explains them.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from . import behaviour
from .model import run_world, threshold_label
from .params import PopulationParameters, SimulationParameters
from .population import MANUFACTURER, synthetic_population

log = logging.getLogger(__name__)


def long_run(
    quarters: int = 240, firms: int = 400, seed: int = 0, params: SimulationParameters | None = None
):
    """A no-award run of the default behaviour over ``quarters`` (60 years by default)."""
    base = params or SimulationParameters()
    params = base.model_copy(
        update={
            "quarters": quarters,
            "awards_enabled": False,
            "population": PopulationParameters(**{**base.population.model_dump(), "firms": firms}),
        }
    )
    population = synthetic_population(params, seed)
    return run_world(population, params, (), 2024, seed), population


def plot(path: Path, quarters: int = 240, firms: int = 400, seeds: int = 3) -> Path:
    """Write the three-panel calibration figure to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = SimulationParameters()
    figure, (uptake, start, payoff) = plt.subplots(1, 3, figsize=(15, 4.5))
    for seed in range(seeds):
        result, population = long_run(quarters, firms, seed, params)
        years = result.trajectory["t"] / 4
        for threshold, style in zip(params.thresholds, ("-", "--"), strict=False):
            uptake.plot(
                years,
                result.trajectory[threshold_label(threshold)],
                style,
                color=f"C{seed}",
                label=f"≥{threshold:.0%}, seed {seed}",
            )
    uptake.set(
        xlabel="years from 2024",
        ylabel="share of manufacturers",
        title="Uptake without awards (S-shaped)",
    )
    uptake.legend(fontsize=7)
    shares = population.loc[population["role"] == MANUFACTURER, "service_revenue_share"]
    start.hist(shares, bins=40, color="C1")
    start.axvline(shares.mean(), color="k", label=f"mean {shares.mean():.3f}")
    start.set(xlabel="service revenue share", ylabel="manufacturers", title="Start (2024)")
    start.legend()
    grid = np.linspace(0, 0.6, 121)
    payoff.plot(grid, behaviour.servitization_payoff(grid, params), color="C2")
    payoff.axvspan(0.2, 0.3, color="0.9", label="Fang et al. 2008: 20-30%")
    payoff.axhline(0, color="k", lw=0.5)
    payoff.set(
        xlabel="service revenue share", ylabel="margin change J(s)", title="Payoff (J-curve)"
    )
    payoff.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("calibration.png"))
    parser.add_argument("--quarters", type=int, default=240)
    parser.add_argument("--firms", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    log.info("wrote %s", plot(args.out, args.quarters, args.firms, args.seeds))


if __name__ == "__main__":
    main()
