"""The firm population: a seeded synthetic one, or a real firm table completed for simulation.

A population is a table, one row per firm, in the columns ``POPULATION_COLUMNS`` (plus any
column an eligibility rule names). Manufacturers' service shares follow Crozet & Milet (CEPII
2014-10): 83% sell some services and services are 11.4% of their sales on average; each
firm runs the service modes its share implies (``share_per_mode`` each).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from liangye.model.candidates import load_candidates
from liangye.model.errors import InputError, Problem
from liangye.model.synthetic import JIAXING_DISTRICTS, JIAXING_SECTORS, SECTOR_WEIGHTS
from liangye.model.wording import column_zh

from .draws import as_seed_sequence, generator
from .params import SERVICE_MODES, SimulationParameters
from .population_checks import (
    MANUFACTURER,
    SERVICE,
    CellProblems,
    checked_modes,
    checked_revenue,
    checked_roles,
    margins,
    renamed_extras,
)

log = logging.getLogger(__name__)

POPULATION_COLUMNS = [
    "id",
    "name",
    "kind",
    "role",
    "district",
    "sector",
    "park",
    "revenue",
    "margin",
    "service_revenue_share",
    "service_input_share",
    "modes",
    "design_prize",
    "market_share_rank",
    "held",
]


# The years over which ``population.design_prize`` is a rate: a policy period of three years
# (Jiaxing's 2024-2026), whatever the simulated horizon.
DESIGN_PRIZE_YEARS = 3

# Every drawn column has a stream of its own, a fixed child of the population's seed by its
# position here (draws.py): a firm's values do not depend on how many firms are drawn, nor on
# the other columns, so sweeps over the number of firms share their firms (common random
# numbers). Append new columns at the end.
DRAWN_COLUMNS = (
    "service",
    "sells",
    "seller_share",
    "service_share",
    "district",
    "joins",
    "park",
    "sector",
    "revenue",
    "margin",
    "input_gap",
    "modes",
    "design_prize",
    "market_share_rank",
    "design_prize_offset",
)


def column_streams(seed: int | np.random.SeedSequence) -> Callable[[str], np.random.Generator]:
    """The Generator of each drawn column (DRAWN_COLUMNS), by name."""
    root = as_seed_sequence(seed)
    return lambda column: generator(root, DRAWN_COLUMNS.index(column))


def modes_for_share(share: np.ndarray, per_mode: float, rng: np.random.Generator) -> list[str]:
    """Each firm's modes as "a;b" text: floor(share / per_mode) modes (at most nine), which
    ones at random. A firm earning 12% from services at 5% a mode runs two."""
    count = np.minimum(len(SERVICE_MODES), np.floor(share / per_mode + 1e-9)).astype(int)
    keys = rng.random((len(share), len(SERVICE_MODES)))
    order = np.argsort(keys, axis=1)
    # Over Python lists: sorting numpy rows of nine was most of a replication's population.
    return [
        ";".join(SERVICE_MODES[m] for m in sorted(row[:k]))
        for row, k in zip(order.tolist(), count.tolist(), strict=True)
    ]


def synthetic_population(
    params: SimulationParameters, seed: int | np.random.SeedSequence
) -> pd.DataFrame:
    """A seeded synthetic population of manufacturers and producer-service firms in
    Jiaxing's districts, sectors and parks (same seed, same table)."""
    spec = params.population
    rng = column_streams(seed)
    n = spec.firms
    service = rng("service").random(n) < spec.service_firm_share
    # Manufacturers: 83% sell services; among sellers a Beta share whose mean makes the
    # overall mean 11.4% (Crozet & Milet 2014).
    sells = rng("sells").random(n) < spec.sells_services
    seller_mean = min(0.95, spec.mean_service_share / spec.sells_services)
    a, b = seller_mean * spec.share_concentration, (1 - seller_mean) * spec.share_concentration
    manufacturing_share = np.where(sells, rng("seller_share").beta(a, b, n), 0.0)
    # Producer-service firms: most revenue from services to manufacturers (Zhongshan 000);
    # how far above that floor is an assumption (service_firm_share_beta).
    floor = spec.service_firm_min_share
    service_share = floor + (1 - floor) * rng("service_share").beta(
        *spec.service_firm_share_beta, n
    )
    share = np.where(
        service, service_share, np.minimum(manufacturing_share, params.max_service_share)
    )
    district = rng("district").choice(np.array(JIAXING_DISTRICTS), n)
    joins = rng("joins").random(n) < spec.park_membership
    park = _parks(district, joins, rng("park").random(n), spec.parks)
    table = pd.DataFrame(
        {
            "id": [f"F{i:05d}" for i in range(1, n + 1)],
            "name": [
                f"嘉兴模拟{'服务' if service[i] else '制造'}企业{i + 1:05d}有限公司"
                for i in range(n)
            ],
            "kind": "enterprise",
            "role": np.where(service, SERVICE, MANUFACTURER),
            "district": district,
            "sector": rng("sector").choice(JIAXING_SECTORS, n, p=SECTOR_WEIGHTS),
            "park": park,
            "revenue": np.round(
                np.exp(rng("revenue").normal(np.log(spec.revenue_median), spec.revenue_sigma, n)),
                1,
            ),
            "margin": np.clip(
                rng("margin").normal(spec.margin_mean, spec.margin_sd, n), *spec.margin_bounds
            ),
            "service_revenue_share": np.round(share, 4),
            "service_input_share": np.round(
                np.clip(share + rng("input_gap").beta(*spec.input_gap, n), 0, 1), 4
            ),
            "modes": modes_for_share(share, params.share_per_mode, rng("modes")),
            "design_prize": rng("design_prize").random(n) < spec.design_prize,
            "market_share_rank": rng("market_share_rank").integers(1, 60, n).astype(float),
            "held": None,
        }
    )
    # A prize is won in one year of a three-year policy period from the start, drawn
    # uniformly: the firm claims its entitlement that year. The period is fixed, not the
    # horizon's, so that a longer or shorter horizon leaves every firm's draw as it was
    # (common random numbers; drawn over the horizon, 16 quarters moved a quarter of the
    # prizes into 2027 and changed the 2024 round); a prize after the horizon is not paid
    # within it.
    table["design_prize_offset"] = rng("design_prize_offset").integers(0, DESIGN_PRIZE_YEARS, n)
    table.attrs["source"] = "synthetic population"
    return table


def _parks(district: np.ndarray, joins: np.ndarray, pick: np.ndarray, parks: int) -> np.ndarray:
    """Each firm's park (None outside any): a firm that joins one takes one of its district's
    parks (parks are spread over the districts in turn), ``pick`` choosing which."""
    names = np.array([f"园区{k + 1:02d}" for k in range(parks)], dtype=object)
    park_district = np.array([JIAXING_DISTRICTS[k % len(JIAXING_DISTRICTS)] for k in range(parks)])
    park = np.full(len(district), None, dtype=object)
    for name in JIAXING_DISTRICTS:
        local = names[park_district == name]
        firms = np.flatnonzero((district == name) & joins)
        if len(local) and len(firms):
            park[firms] = local[(pick[firms] * len(local)).astype(np.int64)]
    return park


def load_population(
    path: str | Path, params: SimulationParameters, seed: int | np.random.SeedSequence
) -> pd.DataFrame:
    """A real firm table (CSV/XLSX with docs/design.md's candidate headers) completed for
    simulation: parks rows dropped, role (default manufacturer), park, margin (from a
    ``profit`` or ``margin`` column, else drawn), input share and modes (from the share,
    when absent). Raises InputError naming every bad cell by its row in the file
    (``population_checks``)."""
    raw = load_candidates(str(path))
    source = raw.attrs.get("source", str(path))
    parks = int((raw["kind"] != "enterprise").sum())
    if parks:
        # Said: a table of firms and parks simulated as its firms alone (review 23).
        log.warning("%s：%d 行园区不参与模拟（模拟的是企业；园区的项目不评审）", source, parks)
    table, units = renamed_extras(raw[raw["kind"] == "enterprise"].reset_index(drop=True))
    problems = [
        Problem(
            source,
            "header",
            f"missing column '{c}' the simulation needs",
            f"缺少模拟所需的“{column_zh(c)}”一列",
        )
        for c in ("revenue", "service_revenue_share")
        if c not in table.columns
    ]
    if problems:
        raise InputError(problems)
    rng = column_streams(seed)
    n = len(table)
    spec = params.population
    cells = CellProblems(source, table["row"].astype(str).tolist())
    revenue = checked_revenue(table["revenue"], cells)
    role = table["role"] if "role" in table.columns else pd.Series([None] * n)
    table["role"] = checked_roles(role, cells)
    table["park"] = table["park"].where(table["park"].notna(), None) if "park" in table else None
    share = table["service_revenue_share"].fillna(0.0).to_numpy(dtype=float)
    table["service_revenue_share"] = share
    table["margin"] = margins(
        table,
        units,
        revenue,
        cells,
        lambda k: np.clip(
            rng("margin").normal(spec.margin_mean, spec.margin_sd, k), *spec.margin_bounds
        ),
    )
    if "service_input_share" not in table.columns:
        table["service_input_share"] = np.clip(
            share + rng("input_gap").beta(*spec.input_gap, n), 0, 1
        )
    table["service_input_share"] = table["service_input_share"].fillna(
        pd.Series(share, index=table.index)
    )
    if "modes" in table.columns:
        table["modes"] = checked_modes(table["modes"], cells)
    else:
        table["modes"] = modes_for_share(share, params.share_per_mode, rng("modes"))
    if cells.found:
        raise InputError(cells.found)
    for column, default in (("design_prize", False), ("market_share_rank", np.nan), ("held", None)):
        if column not in table.columns:
            table[column] = default
    table.attrs["source"] = source
    return table


def firm_population(
    params: SimulationParameters, seed: np.random.SeedSequence, base: Path | None = None
) -> pd.DataFrame:
    """The population a replication simulates: the firm file if the scenario names one,
    else the synthetic population (with its own fixed seed, if given)."""
    spec = params.population
    if spec.file is not None:
        path = Path(spec.file)
        return load_population(
            base / path if base and not path.is_absolute() else path, params, seed
        )
    return synthetic_population(params, spec.seed if spec.seed is not None else seed)
