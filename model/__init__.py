"""The award allocation: policy catalogue, candidate tables, eligibility and the integer programme."""

# Before any module here imports scipy or Pyomo: keep Pyomo from loading scipy.stats.
from . import pyomo_setup  # noqa: F401
