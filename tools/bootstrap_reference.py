#!/usr/bin/env python3
"""Independent reference for depthlens' window bootstrap (docs/metrics.md, "Uncertainty").

Writes src/test/resources/bootstrap/reference.json: random per-window sums (NumPy's own generator), the
resampling indices (also NumPy's), and what NumPy computes from them: percentile intervals (np.percentile,
linear) of a ratio of sums, of a variance from sums about a shift, of a paired difference, and of Spearman's
rho with average ranks for ties (ranks computed by counting, not by sorting). BootstrapReferenceTest feeds the
same rows and indices to depthlens and compares. Run: python3 tools/bootstrap_reference.py
"""
import json
import os

import numpy as np

rng = np.random.default_rng(18)
W, R, P = 12, 1000, 6  # windows, resamples, positions

count = rng.integers(50, 100, size=W).astype(float)
# "a" and "b": per-window sums of per-token values, coarse so that their ratios tie now and then
a = np.round(count[:, None] * rng.uniform(0.2, 0.4, size=(W, P)), 0)
b = np.round(count[:, None] * (0.3 + 0.02 * rng.standard_normal(size=(W, P))), 0)
# variance of H values per token over 3 depths: per window n, sum of (x-mu), sum of (x-mu)^2
H = 8
vn = np.repeat((count * H)[:, None], 3, axis=1)
vs = rng.standard_normal(size=(W, 3)) * np.sqrt(vn)
vq = vn * rng.uniform(0.8, 1.2, size=(W, 3)) + vs ** 2 / vn
rows = np.concatenate([count[:, None], a, b, vn, vs, vq], axis=1)
A, B, N, S, Q = 1, 1 + P, 1 + 2 * P, 4 + 2 * P, 7 + 2 * P

idx = rng.integers(0, W, size=(R, W))


def ranks(v):
    # average rank = (number smaller) + (number equal + 1) / 2
    v = np.asarray(v)
    less = (v[None, :] < v[:, None]).sum(axis=1)
    equal = (v[None, :] == v[:, None]).sum(axis=1)
    return less + (equal + 1) / 2.0


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float("nan") if den == 0 else float((rx * ry).sum() / den)


def stats(t):
    ra = t[A:A + P] / t[0]
    rb = t[B:B + P] / t[0]
    var = (t[Q:Q + 3] - t[S:S + 3] ** 2 / t[N:N + 3]) / t[N:N + 3]
    return {"ratio_a": ra, "variance": var, "diff": ra - rb, "spearman": np.array([spearman(ra, rb)])}


reps = {k: [] for k in stats(rows.sum(axis=0))}
for r in range(R):
    weights = np.bincount(idx[r], minlength=W).astype(float)
    t = weights @ rows
    for k, v in stats(t).items():
        reps[k].append(v)
out = {
    "windows": W, "resamples": R, "positions": P,
    "columns": {"count": 0, "a": A, "b": B, "var_n": N, "var_s": S, "var_q": Q},
    "rows": rows.tolist(),
    "indices": idx.tolist(),
    "point": {k: v.tolist() for k, v in stats(rows.sum(axis=0)).items()},
    "ci95": {k: np.percentile(np.array(v), [2.5, 97.5], axis=0).T.tolist() for k, v in reps.items()},
}
here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "src", "test", "resources", "bootstrap", "reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path), {k: out["ci95"][k][:2] for k in out["ci95"]})
