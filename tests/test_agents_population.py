"""The firm population: the synthetic generator's documented defaults, and a real table loaded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liangye.agents.params import SERVICE_MODES, PopulationParameters, SimulationParameters
from liangye.agents.population import (
    MANUFACTURER,
    SERVICE,
    load_population,
    synthetic_population,
)
from liangye.model.errors import InputError


def big(firms: int = 20000) -> SimulationParameters:
    return SimulationParameters(population=PopulationParameters(firms=firms))


def test_synthetic_population_matches_its_sources():
    """Crozet & Milet (2014): 83% of manufacturers sell services, 11.4% of their sales are
    services; producer-service firms earn at least half their revenue from services."""
    table = synthetic_population(big(), 1)
    makers = table[table["role"] == MANUFACTURER]
    services = table[table["role"] == SERVICE]
    assert makers["service_revenue_share"].mean() == pytest.approx(0.114, abs=0.004)
    assert (makers["service_revenue_share"] > 0).mean() == pytest.approx(0.83, abs=0.01)
    assert len(services) / len(table) == pytest.approx(0.15, abs=0.01)
    assert services["service_revenue_share"].min() >= 0.5
    assert (table["service_input_share"] >= table["service_revenue_share"]).all()
    assert table["park"].notna().mean() == pytest.approx(0.5, abs=0.02)


def test_modes_follow_the_share():
    """floor(share / 0.05) modes (at most nine): 12% → 2 modes, 4% → none."""
    table = synthetic_population(big(2000), 2)
    makers = table[table["role"] == MANUFACTURER]
    count = makers["modes"].map(lambda text: len([m for m in text.split(";") if m]))
    expected = np.minimum(9, np.floor(makers["service_revenue_share"] / 0.05 + 1e-9))
    # Shares are stored rounded to 4 decimals, which can only move a firm at a boundary.
    assert (count == expected).mean() > 0.99
    assert set(";".join(table["modes"]).split(";")) - {""} <= set(SERVICE_MODES)


def test_same_seed_same_population_other_seed_other():
    params = big(300)
    pd.testing.assert_frame_equal(synthetic_population(params, 5), synthetic_population(params, 5))
    assert not synthetic_population(params, 5).equals(synthetic_population(params, 6))


def test_real_firm_table_is_completed_for_simulation(tmp_path):
    """Chinese headers, a profit column (margin = profit / revenue), a park, given modes."""
    path = tmp_path / "firms.csv"
    path.write_text(
        "编号,企业名称,类型,所在县区,所属行业,营业收入（万元）,服务收入占比,利润,园区,服务模式\n"
        "A1,甲公司,企业,南湖区,高端装备,20000,15%,1000,园区01,industrial_design;mass_customisation\n"
        "A2,乙公司,企业,秀洲区,智能光伏,5000,0.02,-100,,\n"
        "P1,丙园区,园区,南湖区,高端装备,900000,0.1,,,\n",
        encoding="utf-8",
    )
    table = load_population(path, SimulationParameters(), 0)
    assert table["id"].tolist() == ["A1", "A2"]  # parks are places, not firms
    assert table["margin"].tolist() == pytest.approx([0.05, -0.02])
    assert table["park"].tolist() == ["园区01", None]
    assert table["modes"].tolist() == ["industrial_design;mass_customisation", ""]
    assert table["role"].tolist() == [MANUFACTURER, MANUFACTURER]
    assert (table["service_input_share"] >= table["service_revenue_share"]).all()


def test_unknown_modes_are_reported(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text(
        "id,name,kind,district,sector,revenue,service_revenue_share,modes\n"
        "A1,甲,enterprise,D,S,100,0.1,teleportation\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="teleportation"):
        load_population(path, SimulationParameters(), 0)


def test_service_firm_shares_and_margins_follow_their_named_parameters():
    """Producer-service shares are lowest + (1 − lowest)·Beta(a, b): with a = b = 10⁶ the Beta
    draw is ½ to within 0.005, so shares are 0.5 + 0.5·½ = 0.75. Margins are a normal law
    clipped to margin_bounds: a 1% spread around 5.8% clipped to [0.05, 0.06] stays there."""
    spec = PopulationParameters(
        firms=3000,
        service_firm_share_beta=(1e6, 1e6),
        margin_sd=0.01,
        margin_bounds=(0.05, 0.06),
    )
    table = synthetic_population(SimulationParameters(population=spec), 3)
    services = table[table["role"] == SERVICE]["service_revenue_share"]
    assert services.to_numpy() == pytest.approx(0.75, abs=0.003)
    assert table["margin"].between(0.05, 0.06).all()
    assert table["margin"].min() == 0.05 and table["margin"].max() == 0.06


def test_beta_laws_and_margin_bounds_are_checked():
    with pytest.raises(ValueError, match="Beta"):
        PopulationParameters(service_firm_share_beta=(0.0, 3.0))
    with pytest.raises(ValueError, match="margin bounds"):
        PopulationParameters(margin_bounds=(0.3, -0.1))


HEADER = "编号,企业名称,类型,所在县区,所属行业,营业收入（万元）,服务收入占比"


def firm_file(tmp_path, extra_header: str, *rows: str):
    path = tmp_path / "firms.csv"
    path.write_text("\n".join([HEADER + extra_header, *rows]) + "\n", encoding="utf-8")
    return path


def problems_of(path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_population(path, SimulationParameters(), 0)
    return [f"{p.where} {p.message} | {p.zh}" for p in caught.value.problems]


def test_every_bad_cell_the_simulation_reads_is_named_by_its_row(tmp_path):
    """Review 22: an empty or zero revenue was simulated (the firm took up every mode, the
    mean hazard went NaN), a profit of "n/a" stopped the run with Python's own words, a
    mistyped role made a service firm a manufacturer, and a bad mode was named at the row
    counted after the parks (row 3 here, where the file's row is 5). All at once now."""
    path = firm_file(
        tmp_path,
        ",利润,两业类型,服务模式",
        "P1,园区甲,园区,南湖区,高端装备,90000,0.1,,,",
        "A1,甲,企业,南湖区,高端装备,,0.1,100,制造业,",
        "A2,乙,企业,南湖区,高端装备,0,0.1,100,服努业,",
        "A3,丙,企业,南湖区,高端装备,5000,0.1,n/a,,flying",
        "A4,丁,企业,南湖区,高端装备,5000,0.1,,生产性服务业,testing",
    )
    found = problems_of(path)
    assert len(found) == 5, found
    for words in (
        "row 3 revenue: is empty",
        "row 4 revenue: is 0",
        "row 4 role: '服努业'",
        "row 5 profit: 'n/a' is not a number",
        "row 5 modes: unknown mode(s) flying",
    ):
        assert any(p.startswith(words) for p in found), (words, found)
    assert any("“营业收入”一栏：为空" in p for p in found), found
    assert any("“两业类型”一栏" in p for p in found), found


def test_profit_in_any_money_unit_and_a_margin_column_are_read(tmp_path):
    """利润（亿元） is 10,000万元 a unit; a margin column is read as given; an empty cell is
    drawn as if the column were absent, not read as 0."""
    path = firm_file(
        tmp_path,
        ",利润（亿元）",
        "A1,甲,企业,南湖区,高端装备,20000,0.1,0.1",
        "A2,乙,企业,南湖区,高端装备,20000,0.1,",
    )
    table = load_population(path, SimulationParameters(), 0)
    assert table["margin"].iloc[0] == pytest.approx(0.05)
    spec = SimulationParameters().population
    assert spec.margin_bounds[0] <= table["margin"].iloc[1] <= spec.margin_bounds[1]
    assert table["margin"].iloc[1] != 0
    margin = firm_file(tmp_path, ",利润率", "A1,甲,企业,南湖区,高端装备,20000,0.1,0.07")
    assert load_population(margin, SimulationParameters(), 0)["margin"].tolist() == [0.07]
    assert problems_of(firm_file(tmp_path, ",利润率", "A1,甲,企业,南湖区,高端装备,20000,0.1,high"))
