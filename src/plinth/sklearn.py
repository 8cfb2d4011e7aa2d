"""scikit-learn integration: ``plinth.sklearn.autolog()``."""

from plinth.sdk.autolog.sklearn import autolog, training_metrics

__all__ = ["autolog", "training_metrics"]
