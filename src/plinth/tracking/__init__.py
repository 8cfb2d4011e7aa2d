"""Experiment tracking: the store contract, its SQL version, the rules and the filter language."""
