"""The agent-based simulation of servitization: firms, governments, awards and their twin.

Only the parameters are imported here (the scenario schema reads them); the Mesa model is
in ``liangye.agents.model`` and one replication in ``liangye.agents.replication``.
"""

from .params import SERVICE_MODES, PopulationParameters, SimulationParameters

__all__ = ["SERVICE_MODES", "PopulationParameters", "SimulationParameters"]
