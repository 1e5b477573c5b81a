"""What every model with its own `train_step` shares: named running means, which `fit` logs.

    class Trainer(TrackedModel):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.track("loss", "accuracy")

        def train_step(self, data):
            ...
            return self.report({"loss": loss, "accuracy": accuracy})

`report` adds each value to its tracker (a `keras.metrics.Mean`) and returns every
tracker's mean so far, which is what `fit` and `evaluate` log. `metrics` lists the
trackers, which is how Keras knows to reset them at each epoch and each `evaluate`.
"""

import keras


class TrackedModel(keras.Model):
    """A `keras.Model` whose `train_step` (and `test_step`) end with `return self.report(values)`."""

    def track(self, *names):
        """Create one `Mean` tracker per name (in `__init__`); `report` and the logs keep this order."""
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @property
    def metrics(self):
        return list(getattr(self, "trackers", {}).values())

    def report(self, values):
        """values: {name: scalar} with at least the tracked names -> {name: running mean}, for `fit`'s logs."""
        for name, tracker in self.trackers.items():
            tracker.update_state(values[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}
