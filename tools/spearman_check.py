#!/usr/bin/env python3
"""Spearman's rho of each score against the damage, recomputed from the arrays of metrics.json files with plain
Python (no NumPy, no SciPy): ranks by counting (average ranks for ties), then the Pearson correlation of the ranks.

  python3 tools/spearman_check.py OUT.json analyses/RUN/*/metrics.json

OUT.json holds, per model, the score and damage arrays and the rho computed here; it also prints the largest
difference from each file's own score_vs_damage. SpearmanCheckTest reads src/test/resources/bootstrap/spearman_check.json.
"""
import json
import math
import sys


def ranks(v):
    return [sum(1 for b in v if b < a) + (sum(1 for b in v if b == a) + 1) / 2.0 for a in v]


def rho(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return float("nan") if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def scores(m):
    s = {
        "block_influence": m["block_influence"],
        "angular_all_n1": [row[0] for row in m["angular_all"]],
        "angular_last_n1": [row[0] for row in m["angular_last"]],
        "update_ratio": m["update_ratio"],
    }
    if m.get("jacobian_deviation"):
        s["jacobian_deviation"] = m["jacobian_deviation"]
    if m.get("logit_lens"):
        kl = m["logit_lens"]["kl"]
        s["logit_lens_kl_drop"] = [kl[l] - kl[l + 1] for l in range(len(kl) - 1)]
    return s


out = {}
for path in sys.argv[2:]:
    m = json.load(open(path))
    damage = [w - m["loss"] for w in m["loss_without_layer"]]
    model = {"damage": damage, "scores": {}, "spearman": {}}
    worst = 0.0
    for k, v in scores(m).items():
        model["scores"][k] = v
        model["spearman"][k] = rho(v, damage)
        own = (m.get("score_vs_damage") or {}).get(k)
        if own is not None:
            worst = max(worst, abs(own["spearman"] - model["spearman"][k]))
    out[m["label"]] = model
    print(path, {k: round(v, 6) for k, v in model["spearman"].items()}, "max |own - here| =", worst)
json.dump(out, open(sys.argv[1], "w"), indent=1)
