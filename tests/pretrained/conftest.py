"""A tiny GPT-2 (2 layers, width 32, ~280 BPE tokens, context 64) saved as a local preset: it stands in for
gpt2_base_en, whose weights cannot be downloaded here."""

import pytest

from lm_keras.pretrained import build_tiny_gpt2, from_keras_hub, load_gpt2


@pytest.fixture(scope="session")
def preset_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny_gpt2") / "preset"
    build_tiny_gpt2().save_to_preset(str(directory))
    return directory


@pytest.fixture(scope="session")
def gpt2(preset_dir):
    """The KerasHub `GPT2CausalLM`, loaded back from the preset."""
    return load_gpt2(preset_dir)


@pytest.fixture(scope="session")
def wrapped(gpt2):
    """(KerasHubLanguageModel, KerasHubTokenizer) of `gpt2`."""
    return from_keras_hub(gpt2)
