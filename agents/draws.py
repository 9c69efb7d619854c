"""Random numbers keyed by what they are for, so that sweep points share them (common random
numbers): a firm's draw for a purpose in a quarter or a year depends only on the root seed,
that key and the firm's position, never on the horizon, the number of firms or other draws.

Each key names its own stream, a fixed child of the replication's SeedSequence
(``stream``); one call draws the numbers of firms 0..n-1 in order from it. numpy's
Generator fills arrays value after value, so firm k's numbers are the same for every
n > k: a run of 1,000 firms draws for its first 500 exactly what a run of 500 draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The replication's streams (first element of every key).
MODEL_STREAM, BEHAVIOUR_STREAM, GOVERNMENT_STREAM, POPULATION_STREAM = 0, 1, 2, 3
# Within BEHAVIOUR/<quarter>: whether and which mode a firm adds; its share and revenue shocks.
ADOPTION, SHOCKS = 0, 1
# Within GOVERNMENT/<government>/<year>: who applies, the panel's error, conferrals.
APPLICATION, PANEL, CONFERRAL = 0, 1, 2


def as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """``seed`` as a SeedSequence (an int is its entropy)."""
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def stream(root: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The child of ``root`` at ``key``: what ``root.spawn`` would give, but by position,
    so asking twice gives the same stream (spawn counts its calls and would not)."""
    return np.random.SeedSequence(
        entropy=root.entropy, spawn_key=(*root.spawn_key, *key), pool_size=root.pool_size
    )


def generator(root: np.random.SeedSequence, *key: int) -> np.random.Generator:
    """A Generator on the stream at ``key``."""
    return np.random.default_rng(stream(root, *key))


def uniforms(root: np.random.SeedSequence, key: tuple[int, ...], n: int, k: int = 1) -> np.ndarray:
    """(n × k) uniforms on [0, 1): row i is firm i's, the same for every n > i."""
    return generator(root, *key).random((n, k))


def normals(root: np.random.SeedSequence, key: tuple[int, ...], n: int, k: int = 1) -> np.ndarray:
    """(n × k) standard normals: row i is firm i's, the same for every n > i."""
    return generator(root, *key).standard_normal((n, k))


@dataclass(frozen=True)
class Draws:
    """The streams under one key prefix (a government's: GOVERNMENT/<its position>)."""

    root: np.random.SeedSequence
    prefix: tuple[int, ...]

    def uniforms(self, key: tuple[int, ...], n: int, k: int = 1) -> np.ndarray:
        """``uniforms`` at prefix + key."""
        return uniforms(self.root, (*self.prefix, *key), n, k)

    def normals(self, key: tuple[int, ...], n: int, k: int = 1) -> np.ndarray:
        """``normals`` at prefix + key."""
        return normals(self.root, (*self.prefix, *key), n, k)
