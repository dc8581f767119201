#!/usr/bin/env python3
"""Checks the window bootstrap's intervals of two runs of the same model on nested window sets (e.g. the first 16
and the first 64 windows), from their metrics.json files alone (plain Python):

  python3 tools/interval_check.py SMALL/metrics.json LARGE/metrics.json

Prints, per key and over all positions: the share of intervals holding their own estimate (both runs), the median
ratio of interval widths small/large (sqrt(64/16) = 2 expected for 16 vs 64 windows), and the share of the small
run's intervals that hold the large run's value.
"""
import json
import statistics
import sys


def value(m, key):
    if key.startswith("logit_lens."):
        return m["logit_lens"][key.split(".")[1]]
    if key == "damage":
        return [w - m["loss"] for w in m["loss_without_layer"]]
    if key == "pruned_removal.loss":
        return [p["loss"] for p in m["pruned_removal"]]
    if key == "pruned_removal.damage":
        return [p["loss"] - m["loss"] for p in m["pruned_removal"]]
    return m[key]


def flat(v):
    if isinstance(v, list) and v and isinstance(v[0], list) and v[0] and isinstance(v[0][0], list):
        return [p for row in v for p in row]  # a triangle of [lo, hi]
    if isinstance(v, list) and len(v) == 2 and not isinstance(v[0], list):
        return [v]  # a number's [lo, hi]
    return v


def values(v):
    if isinstance(v, list) and v and isinstance(v[0], list):
        return [x for row in v for x in row]
    return v if isinstance(v, list) else [v]


small, large = (json.load(open(p)) for p in sys.argv[1:3])
print("windows:", small["uncertainty"]["windows"], "vs", large["uncertainty"]["windows"],
      "resamples", small["uncertainty"]["resamples"], "seed", small["uncertainty"]["seed"])
tot = {"own_small": [0, 0], "own_large": [0, 0], "cover": [0, 0]}
ratios_all = []
for key, band in small["uncertainty"]["ci95"].items():
    if key.startswith("pruned_removal") and [p["start"] for p in small["pruned_removal"]] != [p["start"] for p in large["pruned_removal"]]:
        print(f"{key:28s} skipped: the pruning chose other spans")
        continue
    bs, bl = flat(band), flat(large["uncertainty"]["ci95"][key])
    vs, vl = values(value(small, key)), values(value(large, key))
    own_s = sum(lo <= v <= hi for (lo, hi), v in zip(bs, vs))
    own_l = sum(lo <= v <= hi for (lo, hi), v in zip(bl, vl))
    cover = sum(lo <= v <= hi for (lo, hi), v in zip(bs, vl))
    ratios = [(a[1] - a[0]) / (b[1] - b[0]) for a, b in zip(bs, bl) if b[1] - b[0] > 0]
    ratios_all += ratios
    n = len(bs)
    for k, c in (("own_small", own_s), ("own_large", own_l), ("cover", cover)):
        tot[k][0] += c
        tot[k][1] += n
    print(f"{key:28s} n={n:4d} holds estimate {own_s}/{n}, {own_l}/{n}; width ratio median "
          f"{statistics.median(ratios) if ratios else float('nan'):.3f}; small covers large value {cover}/{n}")
print("ALL: holds estimate", tot["own_small"], tot["own_large"], "; width ratio median %.3f (quartiles %s)" % (
    statistics.median(ratios_all), [round(q, 3) for q in statistics.quantiles(ratios_all, n=4)]),
    "; small covers large value", tot["cover"], "= %.3f" % (tot["cover"][0] / tot["cover"][1]))
