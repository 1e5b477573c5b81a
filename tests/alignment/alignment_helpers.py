"""The alignment tests' poems and tiny model, imported by name (`from alignment_helpers import POEMS`):
a module named `conftest` would be whichever directory's conftest pytest imported last."""

import keras

from lm_keras.models import TransformerLanguageModel

POEMS = {
    "春曉": "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。",
    "靜夜思": "牀前看月光，疑是地上霜。舉頭望山月，低頭思故鄉。",
    "登鸛雀樓": "白日依山盡，黃河入海流。欲窮千里目，更上一層樓。",
    "涼州詞": "黃河遠上白雲間，一片孤城萬仞山。羌笛何須怨楊柳，春風不度玉門關。",
}


def tiny_transformer(vocabulary_size, seed=0, context_length=48):
    keras.utils.set_random_seed(seed)
    model = TransformerLanguageModel(vocabulary_size, context_length=context_length, num_layers=1, num_heads=2,
                                     d_model=32)
    model.build((None, context_length))
    return model
