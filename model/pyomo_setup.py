"""Pyomo imported without what liangye does not use (``model/__init__`` imports this first).

Pyomo defers its scipy import, and when anything imports scipy it finalises the deferral by
importing ``scipy.stats``, ``scipy.integrate`` and ``scipy.spatial`` too (about half a second
of every command's start). The standard-form compiler needs only ``scipy.sparse``; scipy
loads its other submodules lazily on first use, so any Pyomo code that does want
``scipy.stats`` still gets it. If a Pyomo release renames the hook, nothing changes but the
start-up time.

The modules that build models import ``pyomo.core as pyo``, not ``pyomo.environ``: liangye
uses Pyomo's modelling components (``pyomo.core``, which ``pyomo.environ`` re-exports) and
its standard-form compiler, and drives HiGHS itself (``highs_model.py``), so the solver
interfaces, transformations and contributed packages that ``pyomo.environ`` registers are
never used. Measured: 0.30 s against 0.10 s to import; ``liangye run`` on the default
scenario 4.15 → 3.91 s and ``liangye allocate`` on a 50-candidate table 3.57 → 3.31 s
(``farm-bench``, medians of 6 and 8 paired runs). Plans, frontiers and simulations are the
same.
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
