"""What every autoregressive language model of lm_keras shares."""

import keras
from keras import ops


class LanguageModel(keras.Model):
    """Base class: subclasses implement `call`, `prefill` and `step`; `score` comes from `call`."""

    def score(self, token_ids):
        """Log-likelihood of each token given the ones before it.

        token_ids (batch, time) -> (batch, time - 1) float32: log p(x_t | x_<t) for t >= 1.
        """
        logits = ops.cast(self(token_ids[:, :-1], training=False), "float32")
        log_probs = ops.log_softmax(logits, axis=-1)
        targets = ops.expand_dims(ops.cast(token_ids[:, 1:], "int32"), -1)
        return ops.squeeze(ops.take_along_axis(log_probs, targets, axis=-1), -1)
