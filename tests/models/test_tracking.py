import keras
import numpy as np
import pytest
import tensorflow as tf

from lm_keras.alignment import DPOTrainer, PolicyGradientTrainer
from lm_keras.models import LatentGAN, RewardModel, SequenceGAN, TextVAE, TrackedModel


class BatchStatistics(TrackedModel):
    """Reports each batch's mean and max: what `fit` logs must be their running means."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.track("mean", "max")

    def call(self, x):
        return x

    def train_step(self, data):
        return self.report({"mean": tf.reduce_mean(data), "max": tf.reduce_max(data), "ignored": 0.0})

    test_step = train_step


def test_report_gives_running_means_that_reset_each_epoch_and_each_evaluate():
    model = BatchStatistics()
    model.compile()
    batches = np.array([[1.0, 2.0], [3.0, 5.0]], np.float32)  # batch means 1.5 and 4, maxima 2 and 5
    history = model.fit(batches, batch_size=1, epochs=2, shuffle=False, verbose=0).history
    assert history == {"mean": [2.75, 2.75], "max": [3.5, 3.5]}
    assert [m.name for m in model.metrics] == ["mean", "max"]
    # evaluate starts from zero: the training values do not leak into it
    assert model.evaluate(np.array([[10.0, 20.0]], np.float32), verbose=0, return_dict=True) == {"mean": 15.0,
                                                                                                 "max": 20.0}


def test_report_needs_every_tracked_name():
    model = BatchStatistics()
    with pytest.raises(KeyError, match="max"):
        model.report({"mean": 1.0})


@pytest.mark.parametrize("cls", [DPOTrainer, PolicyGradientTrainer, RewardModel, TextVAE, LatentGAN, SequenceGAN])
def test_every_custom_train_step_model_shares_the_tracking(cls):
    assert issubclass(cls, TrackedModel)
    assert "metrics" not in vars(cls) and "report" not in vars(cls)  # none writes its own


def test_the_trackers_are_the_logged_names_in_order():
    assert [m.name for m in LatentGAN(loss="wgan_gp").metrics] == ["critic_loss", "generator_loss",
                                                                   "gradient_penalty", "wasserstein"]
    assert [m.name for m in LatentGAN(loss="non_saturating").metrics] == ["critic_loss", "generator_loss"]
    assert [m.name for m in TextVAE(vocabulary_size=12).metrics] == ["loss", "reconstruction", "kl", "elbo",
                                                                     "kl_weight"]
    assert all(isinstance(m, keras.metrics.Mean) for m in TextVAE(vocabulary_size=12).metrics)
