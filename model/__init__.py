"""The award allocation: policy catalogue, candidate tables, eligibility and the integer programme."""
