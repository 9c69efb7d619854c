"""The result store, plan exports and reports."""
