"""The agent-based simulation of servitization: firms, governments, awards and their twin.

Only the parameters are imported here (the scenario schema reads them); the Mesa model is
in ``liangye.agents.model`` and one replication in ``liangye.agents.replication``.
"""

# Before Mesa: Mesa imports scipy (scipy.spatial), and Pyomo, imported later by the rounds,
# finalises an already-imported scipy at once, scipy.stats and all (0.3 s of every
# simulation's start); liangye.model sets Pyomo's hook first (model/pyomo_setup.py).
import liangye.model  # noqa: F401

from .params import SERVICE_MODES, PopulationParameters, SimulationParameters

__all__ = ["SERVICE_MODES", "PopulationParameters", "SimulationParameters"]
