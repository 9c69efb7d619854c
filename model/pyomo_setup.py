"""Pyomo imported without what liangye does not use (``model/__init__`` imports this first).

Pyomo defers its scipy import, and when anything imports scipy it finalises the deferral by
importing ``scipy.stats``, ``scipy.integrate`` and ``scipy.spatial`` too (about half a second
of every command's start). The standard-form compiler needs only ``scipy.sparse``; scipy
loads its other submodules lazily on first use, so any Pyomo code that does want
``scipy.stats`` still gets it. If a Pyomo release renames the hook, nothing changes but the
start-up time.
"""

from __future__ import annotations

import pyomo.common.dependencies as _dependencies


def _scipy_sparse_only(module: object, available: bool) -> None:
    """What ``_finalize_scipy`` does, minus the submodules liangye never uses."""
    if available:
        import scipy.sparse  # noqa: F401


_indicator = getattr(_dependencies, "scipy_available", None)
if getattr(_indicator, "_callback", None) is getattr(_dependencies, "_finalize_scipy", object()):
    _indicator._callback = _scipy_sparse_only
