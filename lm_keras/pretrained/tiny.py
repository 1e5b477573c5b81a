"""A tiny, randomly initialised GPT-2 with a byte-level BPE vocabulary built in memory, for tests and
offline demos (the real presets need one download)."""

import keras

#: A few merges of common English pieces; "Ġ" is GPT-2's byte-level space.
TINY_MERGES = ["Ġ t", "h e", "Ġt he", "Ġ a", "i n", "o u", "e r", "a n", "Ġ s", "Ġ w", "o n", "Ġ o", "r e",
               "i s", "Ġ b", "Ġ m", "Ġ f", "Ġ i", "in g", "e n", "Ġ c", "Ġ d", "a t", "o r", "l l", "Ġ h"]
END_OF_TEXT = "<|endoftext|>"


def byte_level_alphabet():
    """GPT-2's 256 printable stand-ins for the bytes 0..255 (OpenAI's `bytes_to_unicode`), in byte order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    shift, codes = 0, {}
    for b in range(256):
        if b in printable:
            codes[b] = b
        else:
            codes[b] = 256 + shift
            shift += 1
    return [chr(codes[b]) for b in range(256)]


def tiny_vocabulary():
    """(vocabulary {token: id}, merges): every byte, the merged pieces, then `<|endoftext|>`."""
    tokens = byte_level_alphabet() + ["".join(merge.split()) for merge in TINY_MERGES] + [END_OF_TEXT]
    return {token: i for i, token in enumerate(dict.fromkeys(tokens))}, list(TINY_MERGES)


def build_tiny_gpt2(num_layers=2, hidden_dim=32, num_heads=2, max_sequence_length=64, dropout=0.1, seed=0):
    """A `keras_hub.models.GPT2CausalLM` of `num_layers` blocks of width `hidden_dim`, with its preprocessor.

    Vocabulary: 256 bytes + the merges of `TINY_MERGES` + `<|endoftext|>` (~280 tokens). `dropout`
    is GPT-2's (0.1, active in training only).
    """
    import keras_hub

    keras.utils.set_random_seed(seed)
    vocabulary, merges = tiny_vocabulary()
    tokenizer = keras_hub.models.GPT2Tokenizer(vocabulary=vocabulary, merges=merges)
    preprocessor = keras_hub.models.GPT2CausalLMPreprocessor(tokenizer=tokenizer,
                                                            sequence_length=max_sequence_length)
    backbone = keras_hub.models.GPT2Backbone(vocabulary_size=len(vocabulary), num_layers=num_layers,
                                             num_heads=num_heads, hidden_dim=hidden_dim,
                                             intermediate_dim=4 * hidden_dim, dropout=dropout,
                                             max_sequence_length=max_sequence_length)
    return keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=preprocessor)
