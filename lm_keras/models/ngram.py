"""Count-based N-gram language models: add-k smoothing and interpolated Kneser-Ney.

An n-gram model predicts a token from the n − 1 tokens before it by counting:

    add-k:        P(w | h) = (c(h w) + k) / (c(h) + k·V)

    Kneser-Ney:   P(w | h) = max(c(h w) − D, 0) / c(h) + D · N₁₊(h •) / c(h) · P(w | h⁻)

where h⁻ drops the oldest token of h, N₁₊(h •) is the number of different tokens seen
after h, and the lower orders use *continuation counts* N₁₊(• h⁻ w), the number of
different tokens seen before h⁻ w, instead of c(h⁻ w): a token that only ever follows
one context ("Francisco" after "San") is not a good guess in a new context. The
recursion ends in a uniform distribution over the vocabulary, so every probability is
positive and each distribution sums to 1. D = n₁ / (n₁ + 2 n₂) per order (Ney et al.),
from the numbers of n-grams seen once and twice.

Counting is vectorised: each k-gram gets an integer id, k-gram = (id of its first k − 1
tokens) · V + last token, found with `np.unique` / `np.searchsorted` (no Python loop
over tokens).
"""

import math

import numpy as np

from lm_keras.generation.samplers import check_sampling_args, sample_next_token
from lm_keras.errors import ConfigError
from lm_keras.tokenizers.base import BOS_ID, PAD_ID, banned_mask

SMOOTHINGS = ("kneser_ney", "add_k")


def _ids_of(keys, table):
    """Positions of `keys` in the sorted array `table`, -1 where absent."""
    if len(table) == 0:
        return np.full(keys.shape, -1, np.int64)
    where = np.clip(np.searchsorted(table, keys), 0, len(table) - 1)
    return np.where((table[where] == keys) & (keys >= 0), where, -1)


class NGramLanguageModel:
    """An n-gram model over token ids (use any of the project's tokenizers).

    Args:
        order: n, from 1 (unigram) to 5.
        vocabulary_size: V; ids are in [0, V).
        smoothing: "kneser_ney" (interpolated) or "add_k".
        k: the pseudo-count of add-k (1 is add-one / Laplace).

    Example:
        >>> model = NGramLanguageModel(3, tokenizer.vocabulary_size).fit(train_ids)
        >>> model.perplexity(validation_ids)
    """

    def __init__(self, order, vocabulary_size, smoothing="kneser_ney", k=1.0):
        if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= 5:
            raise ConfigError(f"order={order!r} is invalid: must be an integer from 1 to 5")
        if smoothing not in SMOOTHINGS:
            raise ConfigError(f"smoothing={smoothing!r} is invalid: must be one of {SMOOTHINGS}")
        if not k > 0:
            raise ConfigError(f"k={k!r} is invalid: must be > 0")
        if vocabulary_size < 2:
            raise ConfigError(f"vocabulary_size={vocabulary_size} is invalid: must be >= 2")
        self.order, self.vocabulary_size, self.smoothing, self.k = order, vocabulary_size, smoothing, k
        self.context_length = order - 1 if order > 1 else None

    # ----- counting ---------------------------------------------------------------------------
    def _gram_ids(self, ids, tables):
        """Per position i, the id of the k-gram ids[i:i+k] for k = 1..len(tables) (-1: unseen)."""
        V = self.vocabulary_size
        position_ids = [ids.astype(np.int64)]  # k = 1: the token itself
        for table in tables[1:]:
            previous = position_ids[-1]
            k = len(position_ids) + 1
            keys = previous[: len(ids) - k + 1] * V + ids[k - 1 :]
            keys = np.where(previous[: len(ids) - k + 1] >= 0, keys, -1)
            position_ids.append(_ids_of(keys, table))
        return position_ids

    def fit(self, ids):
        """Count the n-grams of a 1-D array of token ids. Returns self."""
        ids = np.asarray(ids, np.int64)
        if len(ids) < self.order:
            raise ConfigError(f"{len(ids)} tokens are fewer than one {self.order}-gram")
        if ids.min() < 0 or ids.max() >= self.vocabulary_size:
            raise ConfigError(f"token ids must be in [0, {self.vocabulary_size})")
        V = self.vocabulary_size
        self.tables, self.counts, self.prefixes, self.first_seen = [np.arange(V, dtype=np.int64)], [], [], []
        self.counts.append(np.bincount(ids, minlength=V).astype(np.float64))
        self.prefixes.append(np.zeros(V, np.int64))
        self.first_seen.append(None)
        position_ids = [ids]
        for k in range(2, self.order + 1):
            previous = position_ids[-1]
            keys = previous[: len(ids) - k + 1] * V + ids[k - 1 :]
            table, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True,
                                                      return_counts=True)
            self.tables.append(table)
            self.counts.append(counts.astype(np.float64))
            self.prefixes.append(table // V)
            self.first_seen.append(first)
            position_ids.append(inverse.reshape(-1).astype(np.int64))
        if self.smoothing == "kneser_ney":
            self._kneser_ney_statistics(position_ids)
        else:  # c(h) per context of every order (index k - 1 for the contexts of k-grams)
            self.context_totals = [np.array([self.counts[0].sum()])] + [
                np.bincount(self.prefixes[k - 1], weights=self.counts[k - 1], minlength=len(self.tables[k - 2]))
                for k in range(2, self.order + 1)]
        return self

    def _kneser_ney_statistics(self, position_ids):
        """Numerators, denominators, discounts and types per order (index k - 1 for k-grams)."""
        n = self.order
        self.numerators, self.denominators, self.types, self.discounts = [], [], [], []
        for k in range(1, n + 1):
            if k == n:
                numerator = self.counts[k - 1]  # the highest order counts occurrences
            else:  # lower orders count distinct left extensions: N1+(• g)
                suffixes = position_ids[k - 1][self.first_seen[k] + 1]
                numerator = np.bincount(suffixes, minlength=len(self.tables[k - 1])).astype(np.float64)
            n1, n2 = np.sum(numerator == 1), np.sum(numerator == 2)
            discount = n1 / (n1 + 2 * n2) if n1 > 0 else 0.5
            contexts = len(self.tables[k - 2]) if k > 1 else 1
            prefixes = self.prefixes[k - 1] if k > 1 else np.zeros(len(numerator), np.int64)
            self.numerators.append(numerator)
            self.denominators.append(np.bincount(prefixes, weights=numerator, minlength=contexts))
            self.types.append(np.bincount(prefixes, weights=(numerator > 0).astype(np.float64),
                                          minlength=contexts))
            self.discounts.append(min(max(discount, 1e-3), 0.999))

    # ----- probabilities ----------------------------------------------------------------------
    def _probabilities(self, contexts, tokens, available):
        """P(token | context) for aligned arrays.

        contexts: list over k = 1..n-1 of arrays: the id of the (k)-gram context ending just
            before each token (-1 when unseen or not available); tokens: (m,) ids;
            available: (m,) how many tokens of context there are (at the start of a text, fewer than n - 1).
        """
        V = self.vocabulary_size
        n = self.order
        if self.smoothing == "add_k":
            # add-k at the highest order the available context allows (an unseen context: uniform)
            orders = np.minimum(n, available + 1)
            probability = (self.counts[0][tokens] + self.k) / (self.context_totals[0][0] + self.k * V)
            for k in range(2, n + 1):
                context = contexts[k - 2]
                total = np.where(context >= 0, self.context_totals[k - 1][np.maximum(context, 0)], 0.0)
                gram = _ids_of(np.where(context >= 0, context * V + tokens, -1), self.tables[k - 1])
                count = np.where(gram >= 0, self.counts[k - 1][np.maximum(gram, 0)], 0.0)
                probability = np.where(orders == k, (count + self.k) / (total + self.k * V), probability)
            return probability
        probability = np.full(tokens.shape, 1.0 / V)
        for k in range(1, n + 1):
            D = self.discounts[k - 1]
            if k == 1:
                numerator = self.numerators[0][tokens]
                denominator = np.full(tokens.shape, self.denominators[0][0])
                types = np.full(tokens.shape, self.types[0][0])
                seen = np.ones(tokens.shape, bool)
            else:
                context = contexts[k - 2]
                gram = _ids_of(np.where(context >= 0, context * V + tokens, -1), self.tables[k - 1])
                numerator = np.where(gram >= 0, self.numerators[k - 1][np.maximum(gram, 0)], 0.0)
                safe = np.maximum(context, 0)
                denominator = np.where(context >= 0, self.denominators[k - 1][safe], 0.0)
                types = np.where(context >= 0, self.types[k - 1][safe], 0.0)
                seen = denominator > 0
            interpolated = (np.maximum(numerator - D, 0.0) + D * types * probability) / np.maximum(denominator, 1e-300)
            probability = np.where(seen, interpolated, probability)
        return probability

    def _contexts(self, ids, positions):
        """For each target position t, the ids of the k-gram contexts ids[t-k:t], k = 1..n-1,
        and the number of context tokens available (t, at most n - 1)."""
        position_ids = self._gram_ids(ids, self.tables[: self.order])
        contexts = []
        for k in range(1, self.order):
            start = positions - k
            ok = start >= 0
            gram_ids = position_ids[k - 1]
            contexts.append(np.where(ok, gram_ids[np.clip(start, 0, len(gram_ids) - 1)], -1) if len(gram_ids)
                            else np.full(positions.shape, -1))
        return contexts, np.minimum(positions, self.order - 1)

    def log_prob(self, next_token, context=()):
        """log P(next_token | context), natural log; the context may be longer or shorter than n - 1."""
        ids = np.asarray(list(context)[-(self.order - 1):] if self.order > 1 else [], np.int64)
        sequence = np.concatenate([ids, [int(next_token)]]).astype(np.int64)
        contexts, available = self._contexts(sequence, np.array([len(ids)]))
        return float(np.log(self._probabilities(contexts, np.array([int(next_token)]), available)[0]))

    def next_token_probabilities(self, context=()):
        """(V,) P(w | context) for every token w of the vocabulary."""
        V = self.vocabulary_size
        ids = np.asarray(list(context)[-(self.order - 1):] if self.order > 1 else [], np.int64)
        contexts, available = self._contexts(np.concatenate([ids, [0]]), np.array([len(ids)]))
        return self._probabilities([np.repeat(c, V) for c in contexts], np.arange(V, dtype=np.int64),
                                   np.repeat(available, V))

    def token_log_probs(self, ids):
        """(len(ids) - 1,) log P(ids[t] | up to n - 1 previous tokens) for t >= 1."""
        ids = np.asarray(ids, np.int64)
        contexts, available = self._contexts(ids, np.arange(1, len(ids)))
        return np.log(self._probabilities(contexts, ids[1:], available))

    def perplexity(self, ids):
        """exp of the mean negative log-likelihood of every token after the first."""
        return math.exp(-float(np.mean(self.token_log_probs(ids))))

    def generate_ids(self, prompt_ids, max_new_tokens=100, temperature=1.0, top_k=0, top_p=1.0, seed=0,
                     banned=(PAD_ID, BOS_ID)):
        """Sample with the project's sampler (`sample_next_token`, seeded like `Generator`).

        `banned` ids are never produced (default: [PAD] and [BOS]).
        """
        check_sampling_args(temperature, top_k, top_p, max_new_tokens)
        ids, new = list(prompt_ids), []
        mask = banned_mask(self.vocabulary_size, banned).numpy()
        for i in range(max_new_tokens):
            logits = np.log(self.next_token_probabilities(ids)).astype(np.float32) + mask
            token = int(sample_next_token(logits[None], np.array([seed, i], np.int32), temperature, top_k,
                                          top_p)[0])
            ids.append(token)
            new.append(token)
        return new
