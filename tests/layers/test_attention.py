import keras
import numpy as np
import pytest

from lm_keras.layers import (MultiHeadSelfAttention, RotaryEmbedding, ScaledDotProductAttention,
                             SinusoidalPositionEncoding, TransformerDecoderBlock, causal_mask)

B, T, D, H = 2, 7, 16, 4


def _inputs(seed=0):
    return np.random.default_rng(seed).normal(size=(B, T, D)).astype("float32")


def _copy_weights(ours, reference):
    """Keras MHA keeps (d, h, d_h) kernels per projection; ours is one fused (d, 3d) kernel."""
    q, k, v, o = (reference.query_dense, reference.key_dense, reference.value_dense, reference.output_dense)
    qkv_kernel = np.concatenate([w.kernel.numpy().reshape(D, D) for w in (q, k, v)], axis=1)
    qkv_bias = np.concatenate([w.bias.numpy().reshape(D) for w in (q, k, v)])
    ours.qkv.set_weights([qkv_kernel, qkv_bias])
    ours.output_projection.set_weights([o.kernel.numpy().reshape(D, D), o.bias.numpy()])


@pytest.fixture(scope="module")
def pair():
    keras.utils.set_random_seed(1)
    reference = keras.layers.MultiHeadAttention(num_heads=H, key_dim=D // H)
    x = _inputs()
    reference(x, x)
    ours = MultiHeadSelfAttention(H)
    ours(x)
    _copy_weights(ours, reference)
    return ours, reference


def test_multi_head_attention_matches_keras_with_a_causal_mask(pair):
    ours, reference = pair
    x = _inputs(1)
    expected, expected_weights = reference(x, x, use_causal_mask=True, return_attention_scores=True)
    got, weights = ours(x, attention_mask=causal_mask(T), return_attention_scores=True)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)
    # causal: no weight on the future
    assert np.all(np.triu(weights.numpy()[0, 0], k=1) == 0)


def test_multi_head_attention_matches_keras_with_a_padding_mask(pair):
    ours, reference = pair
    x = _inputs(2)
    keep = np.ones((B, T), bool)
    keep[0, :3] = False  # left padding in row 0
    mask = causal_mask(T).numpy() & keep[:, None, :]
    np.testing.assert_allclose(ours(x, attention_mask=mask), reference(x, x, attention_mask=mask), atol=1e-5)
    # masked keys change nothing: perturbing them leaves row 0's real positions unchanged
    y = x.copy()
    y[0, :3] += 10.0
    np.testing.assert_allclose(ours(x, attention_mask=mask)[0, 3:], ours(y, attention_mask=mask)[0, 3:], atol=1e-5)


def test_scaled_dot_product_attention_is_the_formula():
    rng = np.random.default_rng(3)
    q, k, v = (rng.normal(size=(1, 3, 1, 4)).astype("float32") for _ in range(3))
    scores = q[0, :, 0] @ k[0, :, 0].T / np.sqrt(4)
    weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    out = ScaledDotProductAttention()(q, k, v)
    np.testing.assert_allclose(out[0, :, 0], weights @ v[0, :, 0], atol=1e-6)


@pytest.mark.parametrize("masked_rows", [False, True])
def test_fused_path_equals_the_formula_in_outputs_and_gradients(masked_rows):
    """Without weights asked for, the layer runs keras.ops.dot_product_attention; it must be the same
    function as the explicit formula: outputs and gradients (w.r.t. Q, K, V) within float tolerance,
    also for a query row whose keys are all masked (left padding), which both average uniformly."""
    import tensorflow as tf

    rng = np.random.default_rng(4)
    q, k, v = (tf.constant(rng.normal(size=(B, T, H, D // H)).astype("float32")) for _ in range(3))
    keep = np.ones((B, T), bool)
    if masked_rows:
        keep[1, :3] = False
    mask = causal_mask(T).numpy() & keep[:, None, :]
    layer = ScaledDotProductAttention()
    upstream = tf.constant(rng.normal(size=(B, T, H, D // H)).astype("float32"))
    results = []
    for weights_too in (False, True):
        with tf.GradientTape() as tape:
            tape.watch([q, k, v])
            out = layer(q, k, v, attention_mask=mask, return_attention_scores=weights_too)
            out = out[0] if weights_too else out
            loss = tf.reduce_sum(out * upstream)
        results.append((out, tape.gradient(loss, [q, k, v])))
    (fused, fused_grads), (formula, formula_grads) = results
    np.testing.assert_allclose(fused, formula, atol=1e-5)
    for a, b in zip(fused_grads, formula_grads):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.abs(fused_grads[1].numpy()).max() > 1e-3   # the gradients compared are not all zero


def test_attention_with_a_cache_equals_attention_over_the_whole_sequence(pair):
    ours, _ = pair
    x = _inputs(4)
    full = ours(x, attention_mask=causal_mask(T))
    capacity = 10
    empty = np.zeros((B, capacity, H, D // H), "float32")
    cache = (empty, empty)
    outputs = []
    for t in range(T):  # one position at a time
        visible = causal_mask(1, capacity, offset=t)
        out, cache = ours(x[:, t : t + 1], attention_mask=visible, cache=cache, cache_index=t)
        outputs.append(out)
    np.testing.assert_allclose(np.concatenate(outputs, 1), full, atol=1e-5)


def test_rotary_scores_depend_only_on_the_distance():
    rope = RotaryEmbedding()
    rng = np.random.default_rng(5)
    q, k = (rng.normal(size=(1, 1, 1, 8)).astype("float32") for _ in range(2))

    def score(i, j):
        return float(np.sum(rope(q, np.array([[i]])) * rope(k, np.array([[j]]))))

    assert score(3, 1) == pytest.approx(score(12, 10), abs=1e-4)
    assert score(3, 1) != pytest.approx(score(3, 2), abs=1e-3)
    # a rotation keeps the norm
    np.testing.assert_allclose(np.linalg.norm(rope(q, np.array([[7]]))), np.linalg.norm(q), rtol=1e-5)


def test_sinusoidal_encoding_is_the_formula():
    pe = SinusoidalPositionEncoding(6)(np.array([[0, 1, 5]])).numpy()[0]
    p, i = 5, 1
    assert pe[2, 2 * i] == pytest.approx(np.sin(p / 10000 ** (2 * i / 6)), abs=1e-6)
    assert pe[2, 2 * i + 1] == pytest.approx(np.cos(p / 10000 ** (2 * i / 6)), abs=1e-6)
    np.testing.assert_allclose(pe[0], [0, 1, 0, 1, 0, 1], atol=1e-7)


def test_decoder_block_is_causal_and_round_trips_its_config():
    block = TransformerDecoderBlock(num_heads=H, dropout=0.1)
    x = _inputs(6)
    out = block(x, attention_mask=causal_mask(T)).numpy()
    y = x.copy()
    y[:, -1] += 5.0  # changing the last position cannot change earlier outputs
    np.testing.assert_allclose(block(y, attention_mask=causal_mask(T)).numpy()[:, :-1], out[:, :-1], atol=1e-5)
    clone = TransformerDecoderBlock.from_config(block.get_config())
    assert clone.get_config() == block.get_config()


def test_indivisible_heads_are_a_clear_error():
    with pytest.raises(ValueError, match="d_model=16 is invalid: must be divisible by num_heads=3"):
        MultiHeadSelfAttention(3)(_inputs())
