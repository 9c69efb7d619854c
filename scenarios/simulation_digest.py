"""What the command line shows of a finished simulation: its JSON summary and headline rows.

Light on purpose (rich only): ``liangye run`` receives it from the simulation's own process,
and unpickling anything of ``simulate.py`` would load Mesa into the parent (0.5 s).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table


@dataclass(frozen=True)
class SimulationDigest:
    """A simulation as shown: ``summary`` is ``SimulationRun.summary()`` (summary.json's
    content), ``headline`` the rows a person reads first (``simulate.headline``)."""

    scenario_id: str
    seed: int
    replications: int
    summary: dict[str, object]
    headline: list[tuple[str, str]]

    def table(self) -> Table:
        """The headline rows as a rich table for the terminal."""
        table = Table(title=f"{self.scenario_id}：有奖励与无奖励对照（随机种子 {self.seed}）")
        table.add_column("指标")
        table.add_column("重复模拟均值", justify="right")
        for label, value in self.headline:
            table.add_row(label, value)
        return table
