"""How well a text VAE models its data and how much it uses z.

    ELBO(x)   = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))                  ≤ log p(x)
    IW_k(x)   = log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x),  z_i ~ q     ≤ log p(x), → log p(x) as k grows
    AU        = #{d : Var_x(E_q[z_d]) > 0.01}                         (Burda et al. 2016)
    MI(x; z)  = E_x[−H(q(z|x))] − E_z[log q(z)],  q(z) the aggregate posterior (Hoffman & Johnson 2016)

`-IW_k` is an upper bound of the negative log-likelihood, comparable with a plain language
model's NLL on the same rows (nats per poem, or per token with the same token count).
Every function takes the rows of `lm_keras.data.pipeline.encode_rows` ([BOS] poem [EOS], padded).
"""

import math

import numpy as np
import tensorflow as tf

from lm_keras.layers.latent import gaussian_kl, gaussian_log_density
from lm_keras.tokenizers.base import PAD_ID

ACTIVE_UNIT_THRESHOLD = 0.01


def _batches(rows, batch_size):
    for start in range(0, len(rows), batch_size):
        yield tf.constant(rows[start:start + batch_size])


def posterior(vae, rows, batch_size=256):
    """(z_mean, z_log_var) of every row: two float32 arrays (num_rows, latent_dim)."""
    parts = [vae.encode(batch) for batch in _batches(rows, batch_size)]
    return (np.concatenate([m.numpy() for m, _ in parts]), np.concatenate([v.numpy() for _, v in parts]))


def _normal(shape, seed, offset):
    return tf.random.stateless_normal(shape, seed=[seed, offset])


def elbo_terms(vae, rows, seed=0, batch_size=256):
    """One-sample reconstruction and closed-form KL per row.

    Returns dict of (num_rows,) float64 arrays: `reconstruction` (−log p(x|z), z ~ q(z|x)
    drawn with `seed`), `kl` (closed form), `kl_sampled` (log q(z|x) − log p(z) at the same z)
    and `num_tokens` (tokens predicted per row).
    """
    out = {"reconstruction": [], "kl": [], "kl_sampled": [], "num_tokens": []}
    for i, batch in enumerate(_batches(rows, batch_size)):
        z_mean, z_log_var = vae.encode(batch)
        z = z_mean + tf.exp(0.5 * z_log_var) * _normal(tf.shape(z_mean), seed, i)
        out["reconstruction"].append(-vae.reconstruction_log_likelihood(batch, vae.decode(batch, z)))
        out["kl"].append(tf.reduce_sum(gaussian_kl(z_mean, z_log_var), axis=1))
        out["kl_sampled"].append(gaussian_log_density(z, z_mean, z_log_var) - gaussian_log_density(z, 0.0, 0.0))
        out["num_tokens"].append(tf.reduce_sum(tf.cast(batch[:, 1:] != PAD_ID, tf.int32), axis=1))
    return {k: np.concatenate([np.asarray(v) for v in vs]).astype(np.float64) for k, vs in out.items()}


def importance_weighted_log_likelihood(vae, rows, num_samples=100, seed=0, max_batch=512):
    """IW_k(x) per row (k = `num_samples`), a lower bound of log p(x) in nats: (num_rows,) float64.

    With k = 1 it is the one-sample ELBO log p(x|z) + log p(z) − log q(z|x) with the z that
    `elbo_terms(..., seed)` draws for the same rows (when `max_batch // k` equals its batch size).
    """
    rows_per_batch = max(1, max_batch // num_samples)
    results = []
    for i, batch in enumerate(_batches(rows, rows_per_batch)):
        z_mean, z_log_var = vae.encode(batch)
        b = tf.shape(z_mean)[0]
        epsilon = tf.reshape(_normal([b * num_samples, vae.latent_dim], seed, i) if num_samples > 1
                             else _normal(tf.shape(z_mean), seed, i), [b, num_samples, vae.latent_dim])
        z = z_mean[:, None] + tf.exp(0.5 * z_log_var)[:, None] * epsilon  # (b, k, d)
        repeated = tf.repeat(batch, num_samples, axis=0)  # row j·k + i is row j with sample i
        flat_z = tf.reshape(z, [-1, vae.latent_dim])
        log_px_z = tf.reshape(vae.reconstruction_log_likelihood(repeated, vae.decode(repeated, flat_z)),
                              [b, num_samples])
        log_weights = (log_px_z + gaussian_log_density(z, 0.0, 0.0)
                       - gaussian_log_density(z, z_mean[:, None], z_log_var[:, None]))
        results.append(tf.reduce_logsumexp(tf.cast(log_weights, tf.float64), axis=1) - math.log(num_samples))
    return np.concatenate([r.numpy() for r in results])


def active_units(z_mean, threshold=ACTIVE_UNIT_THRESHOLD):
    """Number of latent dimensions whose posterior mean varies across the data: Var_x(μ_d) > threshold."""
    return int(np.sum(np.var(np.asarray(z_mean, np.float64), axis=0) > threshold))


def mutual_information(z_mean, z_log_var, seed=0, chunk=256):
    """Estimate of I(x; z) under q, in nats (He et al. 2019's estimator over the given rows).

    The aggregate posterior q(z) = (1/N) Σ_j q(z|x_j) is evaluated at one z_i ~ q(z|x_i) per row.
    """
    z_mean, z_log_var = np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64)
    n, d = z_mean.shape
    rng = np.random.default_rng(seed)
    z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal((n, d))
    negative_entropy = np.mean(-0.5 * d * math.log(2 * math.pi) - 0.5 * np.sum(1.0 + z_log_var, axis=1))
    log_qz = []
    for start in range(0, n, chunk):
        zi = z[start:start + chunk, None, :]  # (c, 1, d) against all N posteriors
        log_density = -0.5 * np.sum(math.log(2 * math.pi) + z_log_var[None] +
                                    (zi - z_mean[None]) ** 2 * np.exp(-z_log_var[None]), axis=2)  # (c, N)
        peak = log_density.max(axis=1, keepdims=True)
        log_qz.append(peak[:, 0] + np.log(np.exp(log_density - peak).sum(axis=1)) - math.log(n))
    return float(negative_entropy - np.mean(np.concatenate(log_qz)))


def evaluate_vae(vae, rows, num_importance_samples=0, seed=0):
    """Every figure of the VAE issue for `rows`, as a dict of floats.

    Per poem (nats): `reconstruction`, `kl`, `elbo` (= −(reconstruction + kl)), and with
    `num_importance_samples` = k > 0 `nll_iw` (−IW_k); per token: the same divided by the
    tokens predicted (`*_per_token`, and `perplexity_iw`); `active_units`, `active_fraction`,
    `mutual_information`, `num_rows`, `num_tokens`.
    """
    terms = elbo_terms(vae, rows, seed)
    z_mean, z_log_var = posterior(vae, rows)
    tokens = float(terms["num_tokens"].sum())
    result = {
        "reconstruction": float(terms["reconstruction"].mean()),
        "kl": float(terms["kl"].mean()),
        "elbo": float(-(terms["reconstruction"] + terms["kl"]).mean()),
        "active_units": active_units(z_mean),
        "active_fraction": active_units(z_mean) / vae.latent_dim,
        "mutual_information": mutual_information(z_mean, z_log_var, seed),
        "num_rows": len(rows),
        "num_tokens": int(tokens),
    }
    result["reconstruction_per_token"] = float(terms["reconstruction"].sum() / tokens)
    result["kl_per_token"] = float(terms["kl"].sum() / tokens)
    result["elbo_per_token"] = result["elbo"] * len(rows) / tokens
    if num_importance_samples:
        log_px = importance_weighted_log_likelihood(vae, rows, num_importance_samples, seed)
        result["nll_iw"] = float(-log_px.mean())
        result["nll_iw_per_token"] = float(-log_px.sum() / tokens)
        result["perplexity_iw"] = math.exp(result["nll_iw_per_token"])
    return result
