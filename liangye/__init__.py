"""liangye: who to designate for which award, and what the awards will do."""

__version__ = "0.1.0"
