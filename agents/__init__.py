"""The agent-based simulation of servitization (built in the simulation issue)."""
