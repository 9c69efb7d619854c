"""The firm behaviour rules as pure functions over arrays: each one small and hand-checkable.

Rates are per year, as the studies state them; ``quarterly_probability`` turns a yearly rate
into the chance of an event within one quarterly step. Every function accepts scalars or
numpy arrays of equal shape and promises not to draw random numbers: randomness is drawn by
the agents from their own streams and passed in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .params import SimulationParameters

STEP_YEARS = 0.25  # one step is a quarter


def quarterly_probability(annual_rate: np.ndarray | float) -> np.ndarray:
    """P(event within a quarter) for a constant hazard of ``annual_rate`` per year:
    1 − exp(−rate/4). The Bass p and q are continuous-time rates, so this, not rate/4, is
    the conversion (p = 0.03/year gives 0.00747 per quarter)."""
    return 1.0 - np.exp(-np.maximum(np.asarray(annual_rate, dtype=float), 0.0) * STEP_YEARS)


def bass_rate(p: float, q: float, peer_share: np.ndarray | float) -> np.ndarray:
    """The Bass hazard per year, p + q·F: own initiative plus imitation of the share F of
    peers that have adopted (Bass 1969; p ≈ 0.03, q ≈ 0.38 on meta-analytic average)."""
    return p + q * np.asarray(peer_share, dtype=float)


def remaining_potential(n_modes: np.ndarray | int, total_modes: int) -> np.ndarray:
    """1 − n/M: the pull towards another mode diminishes as a firm's mode set fills, Bass's
    remaining market (1 − F) applied to the firm's own nine modes. Zero with all modes run."""
    return np.clip(1.0 - np.asarray(n_modes, dtype=float) / total_modes, 0.0, 1.0)


def peer_adoption(
    adopter: np.ndarray, park: np.ndarray, sector: np.ndarray, park_weight: float
) -> np.ndarray:
    """F for each firm: the share of adopters among its peers, the firm itself left out.

    Firms in a park: park_weight × (share among the park's other firms) + (1 − park_weight) ×
    (share among the sector's other firms). Firms outside any park, or alone in theirs: the
    sector share only. A firm with no peer at all has F = 0.
    """
    return peer_adoption_by_group(adopter, group_codes(park), group_codes(sector), park_weight)


def group_codes(labels: np.ndarray) -> np.ndarray:
    """Each firm's group as an integer code (hashed once), −1 for a firm in no group."""
    codes, _ = pd.factorize(np.asarray(labels, dtype=object), use_na_sentinel=True)
    return codes


def peer_adoption_by_group(
    adopter: np.ndarray, park: np.ndarray, sector: np.ndarray, park_weight: float
) -> np.ndarray:
    """``peer_adoption`` with parks and sectors given as ``group_codes``: the simulation
    codes them once, not every quarter."""
    adopting_firm = np.asarray(adopter, dtype=float)

    def others(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Group sums by code; a firm without a park or sector (code −1) has no peers.
        grouped = codes >= 0
        size = int(codes.max()) + 1 if len(codes) else 0
        count = np.bincount(codes[grouped], minlength=size).astype(float)
        total = np.bincount(codes[grouped], weights=adopting_firm[grouped], minlength=size)
        peers, adopting = np.full(len(codes), -1.0), -adopting_firm
        peers[grouped] = count[codes[grouped]] - 1.0
        adopting[grouped] = total[codes[grouped]] - adopting_firm[grouped]
        share = np.divide(adopting, peers, out=np.zeros(len(codes)), where=peers > 0)
        return share, peers > 0

    sector_share, _ = others(np.asarray(sector))
    park_share, in_park = others(np.asarray(park))
    return np.where(
        in_park, park_weight * park_share + (1 - park_weight) * sector_share, sector_share
    )


def long_run_share(
    base_share: np.ndarray | float, n_modes: np.ndarray | int, per_mode: float, cap: float
) -> np.ndarray:
    """The service share a firm heads for: its base share plus ``per_mode`` per mode, capped."""
    return np.minimum(cap, np.asarray(base_share, dtype=float) + per_mode * np.asarray(n_modes))


def servitization_payoff(share: np.ndarray | float, params: SimulationParameters) -> np.ndarray:
    """J(s), the change in operating margin at service share s (the servitization paradox):

        J(s) = −c·s + b·max(0, s − s*)

    with c the cost slope, b the premium slope and s* the inflection. Margins fall with
    services until s* and rise after it (Fang, Palmatier & Steenkamp 2008: 20-30%); J is at
    its lowest at s* and back to zero at s*·b/(b − c) when b > c.
    """
    s = np.asarray(share, dtype=float)
    return -params.service_cost_slope * s + params.service_premium_slope * np.maximum(
        0.0, s - params.payoff_inflection
    )


def profit_base(
    revenue: np.ndarray | float, margin: np.ndarray | float, floor: float
) -> np.ndarray:
    """Annual profit against which a firm weighs money: revenue × margin, at least
    floor × revenue (a loss-maker still weighs awards against something finite)."""
    revenue = np.asarray(revenue, dtype=float)
    return np.maximum(revenue * np.asarray(margin, dtype=float), floor * revenue)


def next_mode_value(
    revenue: np.ndarray | float,
    margin: np.ndarray | float,
    target_share: np.ndarray | float,
    cash: np.ndarray | float,
    params: SimulationParameters,
) -> np.ndarray:
    """What one more mode is worth to a firm, in years of profit (costs first):

        v = [H · R · (J(s⁺ + δ) − J(s⁺)) − max(0, C·R − cash)] / Π

    s⁺ the long-run share the firm heads for, δ the share a mode adds, H the planning years,
    C the adoption cost as a share of revenue R, ``cash`` award money not yet spent (it pays
    the cost first), Π the profit base. Negative below the inflection, positive above it.
    """
    revenue = np.asarray(revenue, dtype=float)
    target = np.asarray(target_share, dtype=float)
    after = np.minimum(params.max_service_share, target + params.share_per_mode)
    gain = servitization_payoff(after, params) - servitization_payoff(target, params)
    cost = np.maximum(0.0, params.adoption_cost * revenue - np.asarray(cash, dtype=float))
    profit = profit_base(revenue, margin, params.profit_floor)
    return (params.planning_years * revenue * gain - cost) / profit


def payoff_multiplier(value: np.ndarray | float, sensitivity: float, clip: float) -> np.ndarray:
    """exp(sensitivity × v), the exponent clipped to ±``clip`` (``payoff_clip``): 1 when a
    mode is worth nothing, never beyond e^±clip however much a mode is worth."""
    return np.exp(np.clip(sensitivity * np.asarray(value, dtype=float), -clip, clip))


def award_multiplier(
    expected_award: np.ndarray | float,
    profit: np.ndarray | float,
    in_reach: np.ndarray | bool,
    response: float,
    pull: float,
) -> np.ndarray:
    """1 + response × (E[award] / Π) × (1 + pull × in_reach).

    E[award] is tier amount × chance of designation (万元), Π the profit base, so a 20万元
    award moves a firm earning 100万元 a year twenty times more than one earning 2000万元
    (Srhoj et al. 2021). Firms one mode short of eligibility (``in_reach``) weigh it
    (1 + pull) times: they push to cross the threshold. No award, no change: 1.
    """
    ratio = np.asarray(expected_award, dtype=float) / np.asarray(profit, dtype=float)
    return 1.0 + response * ratio * (1.0 + pull * np.asarray(in_reach, dtype=float))


def share_step(
    share: np.ndarray | float,
    target: np.ndarray | float,
    adjustment: float,
    noise_sd: float,
    shock: np.ndarray | float,
) -> np.ndarray:
    """Next quarter's service share: s + a·(s⁺ − s) + σ·z, kept within [0, 1]. New services
    ramp up (a quarter closes the fraction a of the gap); z ~ N(0, 1) is the firm's draw."""
    s = np.asarray(share, dtype=float)
    return np.clip(s + adjustment * (np.asarray(target) - s) + noise_sd * np.asarray(shock), 0, 1)


def revenue_step(
    revenue: np.ndarray | float, growth: float, volatility: float, shock: np.ndarray | float
) -> np.ndarray:
    """Next quarter's annual revenue: R·exp(g/4 + σ/2·z), a log-normal walk with the yearly
    mean log growth g and volatility σ (σ·√¼ per quarter)."""
    return np.asarray(revenue, dtype=float) * np.exp(
        growth * STEP_YEARS + volatility * np.sqrt(STEP_YEARS) * np.asarray(shock)
    )


def true_merit(revenue: np.ndarray, share: np.ndarray, size_weight: float) -> np.ndarray:
    """A firm's merit as the programmes weigh it: w·z(log revenue) + (1 − w)·z(service share),
    z standardising over the firms given (scale and service capability, as the calls score)."""

    def z(values: np.ndarray) -> np.ndarray:
        spread = values.std()
        return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)

    log_revenue = np.log(np.maximum(np.asarray(revenue, dtype=float), 1e-6))
    return size_weight * z(log_revenue) + (1 - size_weight) * z(np.asarray(share, dtype=float))


def panel_scores(
    quality: np.ndarray, agreement: float, noise: np.ndarray, mean: float, sd: float
) -> np.ndarray:
    """Expert scores on a 0-100 scale: μ + σ·(√κ·q̃ + √(1−κ)·ε), clipped to [0, 100] and
    rounded to 0.1, q̃ the standardised true quality, ε ~ N(0, 1) the panel's error, μ and σ
    ``score_mean`` and ``score_sd``. Two panels scoring the same firms then correlate κ
    (κ ≈ 0.23 between grant panels): most of a score's spread is noise."""
    quality = np.asarray(quality, dtype=float)
    spread = quality.std()
    standard = (quality - quality.mean()) / spread if spread > 0 else np.zeros_like(quality)
    raw = np.sqrt(agreement) * standard + np.sqrt(1 - agreement) * np.asarray(noise)
    return np.round(np.clip(mean + sd * raw, 0, 100), 1)
