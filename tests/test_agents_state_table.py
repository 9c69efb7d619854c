"""The firms' table the rules read each quarter, against the plain ``assign`` it replaced;
the recorded tables as the model frames them, against framing them whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liangye.agents import records
from liangye.agents.model import ServitizationModel
from liangye.agents.params import SERVICE_MODES
from liangye.agents.population import firm_population
from liangye.scenarios.loader import load_scenario
from liangye.scenarios.simulate import simulation_setup


def plain_state_table(model: ServitizationModel, after: bool) -> pd.DataFrame:
    """The table as ``DataFrame.assign`` makes it (the code before the speed-up)."""
    f, p = model.firms, model.params
    share, n_modes, margin = f.share, f.n_modes(), f.margin(p)
    if after:
        lifted = np.minimum(f.cap, f.target(p) + p.share_per_mode)
        share = np.where(model.manufacturer, lifted, share)
        n_modes = np.where(model.manufacturer, np.minimum(n_modes + 1, len(SERVICE_MODES)), n_modes)
    columns = {
        "revenue": f.revenue,
        "service_revenue_share": share,
        "service_input_share": np.minimum(1.0, share + f.input_gap),
        "margin": margin,
        "profit": f.revenue * margin,
        "n_modes": n_modes,
        **{f"mode_{m}": f.modes[:, k] for k, m in enumerate(SERVICE_MODES)},
    }
    if "design_prize_offset" in model.static.columns:
        won_now = model.static["design_prize_offset"].to_numpy() == model.year - model.start_year
        columns["design_prize"] = model.static["design_prize"].to_numpy(dtype=bool) & won_now
    return model.static.assign(**columns)


@pytest.mark.parametrize("quarters", [0, 5, 9])
def test_state_table_is_what_assign_gives(quarters):
    """Same columns in the same order, dtypes, values and attrs (the source a problem's
    messages name), today's and as if one more mode were added, after some quarters; and
    the two stacked as the quarter's eligibility reads them (``state_tables``)."""
    scenario, base = load_scenario(None, ["simulation.population.firms=300"])
    params, governments, start = simulation_setup(scenario, base)
    firms = firm_population(params, np.random.SeedSequence(3), base)
    model = ServitizationModel(firms, params, governments, start, seed=3)
    for _ in range(quarters):
        model.step()
    for after in (False, True):
        fast, plain = model.state_table(after=after), plain_state_table(model, after)
        assert list(fast.columns) == list(plain.columns)
        assert list(fast.dtypes) == list(plain.dtypes)
        assert fast.index.equals(plain.index)
        assert fast.equals(plain)
        assert fast.attrs == plain.attrs and fast.attrs
    assert "design_prize" in model.static.columns  # the column replaced in place is tested
    stacked = model.state_tables()
    plain = pd.concat([plain_state_table(model, False), plain_state_table(model, True)])
    plain = plain.reset_index(drop=True)
    assert list(stacked.columns) == list(plain.columns)
    assert list(stacked.dtypes) == list(plain.dtypes)
    assert stacked.index.equals(plain.index)
    assert stacked.equals(plain)
    assert stacked.attrs == plain.attrs
    # The rows a quarter's prior beliefs read: today's table itself.
    assert stacked.iloc[: len(firms)].equals(model.state_table())


def test_recorded_tables_framed_as_they_grow_equal_framing_them_whole():
    """The awards framed round by round (rows added since appended to the kept frame) are
    the frame of the whole table; a caller changing what it was given changes nothing kept."""
    scenario, base = load_scenario(None, ["simulation.population.firms=300"])
    params, governments, start = simulation_setup(scenario, base)
    firms = firm_population(params, np.random.SeedSequence(3), base)
    model = ServitizationModel(firms, params, governments, start, seed=3)
    (government,) = model.governments
    sizes = []
    for _ in range(params.quarters):
        model.step()
        awards = model.table("awards", government.policy.id)
        sizes.append(len(awards))
        whole = records.table_frame(model.datacollector, "awards")
        pd.testing.assert_frame_equal(model.table("awards"), whole, check_exact=True)
        pd.testing.assert_frame_equal(awards.reset_index(drop=True), whole, check_exact=True)
        awards["score"] = 0.0
        assert model.table("awards")["score"].equals(whole["score"])
    assert len(set(sizes)) > 2  # framed more than once after the first round
