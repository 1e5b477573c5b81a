"""The SavedModel of a text classifier: `classify`, a string in, a label and probabilities out."""

import tensorflow as tf

from lm_keras.export.server import SavedModelServer, document_rows


class ClassifierServer(SavedModelServer):
    """`classify(text string[b])` -> label string[b], class_id int32[b], probabilities float32[b, num_classes].

    A text is read as the classifier was trained: `[BOS] text [EOS]` cut to its first
    `max_length` tokens (a graph cannot warn), padded with 0; an empty text is
    `[BOS] [EOS]`. `serving_default` is `classify`.

    Args:
        model: a trained classifier (`lm_keras.models.classifier`), logits (b, num_classes).
        tokenizer: its tokenizer.
        labels: the class names, in class-id order.
        max_length: the most tokens read per text ([BOS] and [EOS] included).
    """

    def __init__(self, model, tokenizer, labels, max_length, assets=None):
        super().__init__(tokenizer, assets, model=model, labels=[str(label) for label in labels])
        self.max_length = max_length

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def classify(self, text):
        logits = self._keras.model(document_rows(self.tokenizer, text, self.max_length), training=False)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {"label": tf.gather(tf.constant(self._keras.labels, tf.string), class_id), "class_id": class_id, "probabilities": probabilities}

    def signature_functions(self):
        return {"serving_default": self.classify, "classify": self.classify}
