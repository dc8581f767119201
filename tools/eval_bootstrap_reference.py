#!/usr/bin/env python3
"""Independent reference for the bootstrap of depthlens' evaluation (docs/metrics.md, "Uncertainty of the evaluation").

Writes src/test/resources/bootstrap/eval_reference.json: a random multiple-choice task (per-choice log-likelihoods of
the full model, 5 removals and 2 prunings, choice lengths, gold answers) and a random documents file (per-document
tokens, words, bytes and summed log-likelihoods of the same sides, and of a second model), resampling indices (NumPy's
generator), and what NumPy computes from them, written from the definitions rather than from depthlens' code:

- a task's hits with np.argmax (the first choice on ties) of ll and of ll / len(choice), acc and acc_norm as means of
  the hits of the drawn items (an item drawn twice counts twice);
- perplexities from the drawn documents' summed log-likelihoods and counts, exp(-sum ll / sum count), bits per byte
  -sum ll / sum bytes / ln 2, the loss increase as (sum ll_full - sum ll_without) / sum tokens;
- changes (without - full) and the difference between two models as one statistic per resample (paired);
- np.percentile(linear) 2.5 and 97.5 over the resamples.

EvalBootstrapReferenceTest feeds the same inputs and indices to depthlens and compares.
Run: python3 tools/eval_bootstrap_reference.py
"""
import json
import os

import numpy as np

rng = np.random.default_rng(1812)
R = 1000
L, K = 5, 2            # removals, prunings
S = 1 + L + K          # sides: full, removals, prunings

# ---- a multiple-choice task
I = 17
nch = rng.integers(2, 5, size=I)
lengths = [rng.integers(1, 12, size=c).tolist() for c in nch]
gold = [int(rng.integers(0, c)) for c in nch]
# rounded to 0.5 so that ties (of ll, and of ll per character) happen
ll = [[(np.round(rng.normal(-12, 3, size=c) * 2) / 2).tolist() for c in nch] for _ in range(S)]
hits = np.zeros((S, I, 2))
for s in range(S):
    for i in range(I):
        v = np.array(ll[s][i])
        hits[s, i, 0] = float(np.argmax(v) == gold[i])
        hits[s, i, 1] = float(np.argmax(v / np.array(lengths[i], dtype=float)) == gold[i])
item_idx = rng.integers(0, I, size=(R, I))


def task_stats(items):
    acc = hits[:, items, :].mean(axis=1)  # [side][metric]
    out = {}
    for m, name in enumerate(["acc", "acc_norm"]):
        out[name] = np.array([acc[0, m]])
        out["removal." + name] = acc[1:1 + L, m] - acc[0, m]
        out["removal.without." + name] = acc[1:1 + L, m]
        out["pruned." + name] = acc[1 + L:, m] - acc[0, m]
        out["pruned.without." + name] = acc[1 + L:, m]
    return out


# ---- a documents file, and a second model's full log-likelihoods on the same documents
D = 11
tokens = rng.integers(1, 300, size=D)
words = np.maximum(1, (tokens * rng.uniform(0.5, 0.9, size=D)).astype(int))
nbytes = (tokens * rng.uniform(3, 5, size=D)).astype(int)
base = -tokens * rng.uniform(2.5, 4.0, size=D)
doc_ll = np.stack([base] + [base - tokens * rng.uniform(0, 0.5 + s, size=D) for s in range(S - 1)])
other_ll = base - tokens * rng.normal(0.1, 0.3, size=D)
doc_idx = rng.integers(0, D, size=(R, D))
METRICS = ["token_ppl", "word_ppl", "byte_ppl", "bits_per_byte"]


def ppl(total_ll, t, w, b):
    return np.array([np.exp(-total_ll / t), np.exp(-total_ll / w), np.exp(-total_ll / b), -total_ll / b / np.log(2)])


def docs_stats(docs):
    t, w, b = tokens[docs].sum(), words[docs].sum(), nbytes[docs].sum()
    sums = doc_ll[:, docs].sum(axis=1)
    v = np.stack([ppl(x, t, w, b) for x in sums])  # [side][metric]
    out = {}
    for m, name in enumerate(METRICS):
        out[name] = np.array([v[0, m]])
        out["removal." + name] = v[1:1 + L, m] - v[0, m]
        out["removal.without." + name] = v[1:1 + L, m]
        out["pruned." + name] = v[1 + L:, m] - v[0, m]
        out["pruned.without." + name] = v[1 + L:, m]
    out["removal.loss_increase"] = (sums[0] - sums[1:1 + L]) / t
    other = ppl(other_ll[docs].sum(), t, w, b)
    for m, name in enumerate(METRICS):
        out["paired." + name] = np.array([other[m] - v[0, m]])
    return out


def intervals(stats, idx):
    reps = {}
    for r in range(R):
        for k, v in stats(idx[r]).items():
            reps.setdefault(k, []).append(v)
    return {k: np.percentile(np.array(v), [2.5, 97.5], axis=0).T.tolist() for k, v in reps.items()}


out = {
    "resamples": R, "removals": L, "prunings": K,
    "task": {
        "lengths": lengths, "gold": gold, "loglik": ll, "indices": item_idx.tolist(),
        "point": {k: v.tolist() for k, v in task_stats(np.arange(I)).items()},
        "ci95": intervals(task_stats, item_idx),
    },
    "docs": {
        "tokens": tokens.tolist(), "words": words.tolist(), "bytes": nbytes.tolist(), "loglik": doc_ll.tolist(),
        "other_loglik": other_ll.tolist(), "indices": doc_idx.tolist(),
        "point": {k: v.tolist() for k, v in docs_stats(np.arange(D)).items()},
        "ci95": intervals(docs_stats, doc_idx),
    },
}
here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "src", "test", "resources", "bootstrap", "eval_reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path), "acc", out["task"]["ci95"]["acc"], "token_ppl", out["docs"]["ci95"]["token_ppl"])
