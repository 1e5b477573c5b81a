"""The policy-gradient estimate against the exact gradient, prompts and completions as rows, and RL that works."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lm_keras.alignment import PolicyGradientTrainer, generate_completions, rloo_advantages, surrogate_objective
from lm_keras.alignment.sequences import (completion_log_prob, completion_mask, pack_rows, prompt_ids,
                                          sample_completions)
from lm_keras.alignment.training import copy_model, train_policy_gradient
from lm_keras.config import PolicyGradientConfig, TrainConfig
from lm_keras.errors import ConfigError, TrainingError
from lm_keras.generation import Generator
from lm_keras.generation.generator import left_pad, model_decode_loop
from lm_keras.tokenizers import banned_mask

from alignment_helpers import tiny_transformer

# --- the estimator on a toy policy whose expected reward can be summed exactly ---------------------------------
VOCAB, K, GROUPS = 3, 4, 12_000
REWARD = tf.constant([[1.0, -0.5, 0.2], [0.0, 0.8, -1.0], [0.3, 0.3, -0.2]])  # R(y1, y2)


def toy_log_probs(theta_1, theta_2, y):
    """A two-token autoregressive policy: log π(y1) + log π(y2 | y1), per token (n, 2)."""
    first = tf.gather(tf.nn.log_softmax(theta_1), y[:, 0])
    second = tf.gather(tf.nn.log_softmax(tf.gather(theta_2, y[:, 0])), y[:, 1], batch_dims=1)
    return tf.stack([first, second], axis=1)


def toy_parameters():
    return (tf.Variable([0.3, -0.2, 0.1]), tf.Variable([[0.5, 0.0, -0.5], [0.1, 0.2, 0.3], [-0.4, 0.4, 0.0]]))


def toy_samples(theta_1, theta_2, n, seed=0):
    y1 = tf.random.stateless_categorical(theta_1[None, :] * tf.ones([n, 1]), 1, [seed, 1])[:, 0]
    y2 = tf.random.stateless_categorical(tf.gather(theta_2, y1), 1, [seed, 2])[:, 0]
    return tf.cast(tf.stack([y1, y2], axis=1), tf.int32)


def exact_gradient(theta_1, theta_2):
    """∇θ J for J = Σ_y π(y) R(y), by GradientTape over the exact sum."""
    with tf.GradientTape() as tape:
        p1 = tf.nn.softmax(theta_1)
        p2 = tf.nn.softmax(theta_2, axis=-1)
        expected = tf.reduce_sum(p1[:, None] * p2 * REWARD)
    return tape.gradient(expected, [theta_1, theta_2])


def estimated_gradient(theta_1, theta_2, algorithm="rloo", seed=0):
    y = toy_samples(theta_1, theta_2, GROUPS * K, seed)
    returns = tf.gather_nd(REWARD, y)
    advantages = rloo_advantages(returns, K)
    old = toy_log_probs(theta_1, theta_2, y)
    with tf.GradientTape() as tape:
        objective = surrogate_objective(toy_log_probs(theta_1, theta_2, y), old, tf.ones_like(old), advantages,
                                        algorithm)
    return [tf.convert_to_tensor(g) for g in tape.gradient(objective, [theta_1, theta_2])]  # gathers: IndexedSlices


def test_rloo_estimate_matches_the_exact_gradient_of_the_expected_reward():
    theta = toy_parameters()
    exact = exact_gradient(*theta)
    estimate = estimated_gradient(*theta)
    # 48,000 samples: the estimate is within 0.003 of the exact figures; a baseline that includes the
    # sample itself (biased by a factor (k − 1)/k) would be off by 0.02–0.03
    for e, g in zip(exact, estimate):
        np.testing.assert_allclose(g.numpy(), e.numpy(), atol=0.008)
    norm = np.sqrt(sum(float(tf.reduce_sum(e ** 2)) for e in exact))
    assert norm > 0.2


def test_rloo_advantages_leave_each_sample_out():
    returns = tf.constant([1.0, 2.0, 3.0, 6.0, 10.0, 10.0])
    advantages = rloo_advantages(returns, 3).numpy()
    np.testing.assert_allclose(advantages, [1 - 2.5, 2 - 2.0, 3 - 1.5, 6 - 10, 10 - 8, 10 - 8])
    np.testing.assert_allclose(advantages.reshape(2, 3).sum(1), [0.0, -4 + 2 + 2 - 0.0], atol=1e-6)


def test_ppo_gradient_at_the_sampling_policy_is_reinforce():
    theta = toy_parameters()
    rloo = estimated_gradient(*theta, "rloo", seed=3)
    ppo = estimated_gradient(*theta, "ppo", seed=3)
    for a, b in zip(rloo, ppo):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)


def test_ppo_clips_a_ratio_that_moved_too_far():
    log_probs = tf.Variable([[-1.0, -1.0]])
    for old, clipped in ((-1.5, True), (-1.1, False)):  # ratio e^0.5 = 1.65 is clipped at 1.2; e^0.1 = 1.105 is not
        with tf.GradientTape() as tape:
            objective = surrogate_objective(log_probs, tf.constant([[old, old]]), tf.ones([1, 2]), tf.constant([1.0]),
                                            "ppo", 0.2)
        gradient = tape.gradient(objective, log_probs)
        assert (float(tf.reduce_max(tf.abs(gradient))) == 0.0) == clipped


# --- prompts and completions as rows -----------------------------------------------------------------------------
def test_sampled_rows_are_the_generators_samples_after_their_prompts(tokenizer, tiny_lm):
    prompts = ["春曉：", "登鸛雀樓：", "涼州詞："]
    ids = prompt_ids(tokenizer, prompts, tiny_lm.context_length, 20)
    padded, mask = left_pad(tf.ragged.constant(ids, dtype=tf.int32))
    banned = banned_mask(tokenizer.vocabulary_size)
    rows, lengths = sample_completions(tiny_lm, padded, mask, banned, 20, 7, 1.0, tokenizer.eos_id)
    expected = Generator(tiny_lm, tokenizer).generate_ids(ids, max_new_tokens=20, temperature=1.0, seed=7)
    np.testing.assert_array_equal(lengths.numpy(), [len(i) for i in ids])
    for row, prompt, new in zip(rows.numpy().tolist(), ids, expected):
        assert row[:len(prompt)] == prompt
        completion = row[len(prompt):]
        assert completion[:len(new)] == new
        rest = completion[len(new):]
        assert rest == [0] * len(rest) or (rest[0] == tokenizer.eos_id and set(rest[1:]) <= {0})


def test_batched_generation_traces_the_sampling_loop_once_per_model_and_batch_shape(tokenizer):
    model = tiny_transformer(tokenizer.vocabulary_size, seed=3)
    before = model_decode_loop.experimental_get_tracing_count()
    first, _, _ = generate_completions(model, tokenizer, ["春曉："] * 20, 6, seed=1, batch_size=8)  # 8, 8, 4 rows
    traced = model_decode_loop.experimental_get_tracing_count() - before
    assert traced <= 2, traced   # full batches, then the short last one (reduce_retracing: any shape after)
    again, _, _ = generate_completions(model, tokenizer, ["春曉："] * 20, 6, seed=1, batch_size=8)
    assert model_decode_loop.experimental_get_tracing_count() - before == traced
    assert again == first        # the same seeds: the same poems
    for prompts in (["春："], ["登鸛雀樓：", "春曉："], ["靜夜思：", "春："] * 5):   # other widths: the shape relaxes
        texts, rows, lengths = generate_completions(model, tokenizer, prompts, 6, seed=2, batch_size=8)
        widest = max(len(p) for p in prompts) + 1   # [BOS] prompt
        assert rows.shape == (len(prompts), widest + 6) and lengths.tolist() == [len(p) + 1 for p in prompts]


def test_completions_are_decoded_up_to_eos_without_padding_in_one_batch(tokenizer):
    from lm_keras.alignment.sequences import completions_text

    ids = tokenizer.encode(["春曉：花落", "靜夜思：", "登鸛雀樓：白日"]).to_list()
    eos = tokenizer.eos_id
    rows = np.zeros((3, 12), np.int32)
    rows[0, :len(ids[0]) + 2] = ids[0] + [eos, ids[0][0]]   # after [EOS]: dropped
    rows[1, :len(ids[1]) + 1] = ids[1] + [eos]              # an empty completion
    rows[2, :len(ids[2])] = ids[2]                          # no [EOS]: [PAD] ends it
    lengths = np.array([3, 4, 5])                           # the prompts: 春曉：, 靜夜思：, 登鸛雀樓：
    assert completions_text(tokenizer, rows, lengths) == ["花落", "", "白日"]
    assert completions_text(tokenizer, rows[:0], lengths[:0]) == []


def test_completion_log_prob_sums_the_scores_of_the_completion_only(tokenizer, tiny_lm):
    ids = prompt_ids(tokenizer, ["春曉：", "靜夜思："], tiny_lm.context_length, 30)
    completions = [tokenizer.encode("春眠不覺曉").numpy().tolist() + [tokenizer.eos_id],
                   tokenizer.encode("牀前").numpy().tolist()]
    rows, lengths = pack_rows(ids, completions, 30)
    scores = tiny_lm.score(rows).numpy()
    expected = [scores[i, lengths[i] - 1:lengths[i] - 1 + len(c)].sum() for i, c in enumerate(completions)]
    np.testing.assert_allclose(completion_log_prob(tiny_lm, rows, lengths).numpy(), expected, rtol=1e-5)
    wider, _ = pack_rows(ids, completions, 40)  # more right padding changes nothing
    np.testing.assert_allclose(completion_log_prob(tiny_lm, wider, lengths).numpy(), expected, rtol=1e-5)
    assert completion_mask(tf.constant(rows), tf.constant(lengths)).numpy().sum(1).tolist() == [6, 2]


def test_a_prompt_that_leaves_no_room_is_refused_with_its_text(tokenizer, tiny_lm):
    with pytest.raises(ConfigError, match="春眠不覺曉.*max_new_tokens=40"):
        prompt_ids(tokenizer, ["春眠不覺曉，處處聞啼鳥："], tiny_lm.context_length, 40)


@pytest.mark.parametrize("fields, name", [({"beta": 0.0}, "beta"), ({"beta": -1.0}, "beta"),
                                          ({"samples_per_prompt": 1}, "samples_per_prompt"),
                                          ({"algorithm": "a2c"}, "algorithm"), ({"clip_ratio": 1.5}, "clip_ratio"),
                                          ({"ppo_epochs": 0}, "ppo_epochs"), ({"temperature": 0.0}, "temperature")])
def test_invalid_policy_gradient_configs_name_the_field(fields, name):
    with pytest.raises(ConfigError, match=f"PolicyGradientConfig.{name} = "):
        PolicyGradientConfig(**fields)


# --- RL that works: a reward for one character makes the policy write it -------------------------------------------
class CharacterReward(keras.Model):
    """Stub reward model: the share of completion tokens that are `token_id` (the prompt never contains it)."""

    def __init__(self, token_id, **kwargs):
        super().__init__(**kwargs)
        self.token_id = token_id

    def reward(self, rows, training=False):
        real = tf.cast((rows != 0) & (rows > 3), tf.float32)
        hits = tf.cast(rows == self.token_id, tf.float32)
        return tf.reduce_sum(hits, 1) / tf.maximum(tf.reduce_sum(real, 1), 1.0)


def _run(tokenizer, algorithm, steps=24, beta=0.01, kl_limit=1e3):
    policy = tiny_transformer(tokenizer.vocabulary_size, seed=1)
    reference = copy_model(policy)
    target = tokenizer.token_to_id("月")
    config = PolicyGradientConfig(algorithm=algorithm, samples_per_prompt=4, beta=beta, max_new_tokens=12)
    train = TrainConfig(steps=steps, batch_size=4, eval_interval=steps // 2, eval_batches=1, learning_rate=1e-2, seed=0)
    prompts = ["春曉：", "靜夜思：", "登鸛雀樓：", "涼州詞："]
    trainer, history = train_policy_gradient(policy, CharacterReward(target), tokenizer, prompts, config, train,
                                             reference=reference, verbose=0, kl_limit=kl_limit)
    return policy, reference, target, history, prompts


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["rloo", "ppo"])
def test_policy_gradient_raises_the_reward_and_pays_for_it_in_kl(tokenizer, algorithm):
    policy, reference, target, history, prompts = _run(tokenizer, algorithm)
    rewards = history.history["reward"]
    assert rewards[-1] > rewards[0] + 0.1, rewards
    assert history.history["kl"][-1] > 0.05
    share = []
    for model in (reference, policy):
        texts, _, _ = generate_completions(model, tokenizer, prompts * 8, 12, seed=5)
        share.append(np.mean([t.count("月") / max(len(t), 1) for t in texts]))
    assert share[1] > share[0] + 0.1, share


def test_a_kl_beyond_the_limit_stops_training(tokenizer):
    with pytest.raises(TrainingError, match="kl"):
        _run(tokenizer, "rloo", steps=4, beta=0.01, kl_limit=1e-9)
