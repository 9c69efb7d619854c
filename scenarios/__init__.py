"""Scenario files, their loader, the runner and the command-line interface."""
