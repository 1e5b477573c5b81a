import math

import numpy as np
import pytest

from lm_keras.evaluation import unigram_entropy


def test_unigram_entropy_of_known_distributions():
    assert unigram_entropy("aaaa") == 0.0
    assert math.isclose(unigram_entropy("abab"), math.log(2))
    assert math.isclose(unigram_entropy([5, 6, 7, 8]), math.log(4))
    p = np.array([0.5, 0.25, 0.25])
    assert math.isclose(unigram_entropy("aabc"), float(-(p * np.log(p)).sum()))
    with pytest.raises(ValueError):
        unigram_entropy([])
