#!/usr/bin/env python3
"""Independent float64 reference for the probes of issue 14 on the tiny-curse-24 pair.

Written from docs/metrics.md and ../shared/docs/architectures.md only (no depthlens code): a Llama
Pre-LN forward (RMSNorm, GQA with rotate-half rope, SwiGLU), with the LayerNorm Scaling factor
1/sqrt(l+1) on both pre-norm outputs of block l when config.json says "layernorm_scaling": true.
BF16 weights are widened to float64 exactly; everything is computed in float64 with NumPy.

Windows follow the tests' rule (TinyCurse.windows): window w holds validation ids [w*T, (w+1)*T).

    python3 tools/probe_reference.py --check 64 256          # reproduce loss / loss_without_layer of
                                                             # reference_metrics.json (sanity check)
    python3 tools/probe_reference.py --windows 4 --len 128 --out src/test/resources/probe_reference.json

The output holds, per model: loss, loss_without_layer, token_similarity, logit_lens {loss, kl, top1_agreement},
jacobian_deviation, loss_without_attention, loss_without_mlp, plus diagnostics (the smallest relative
top-1/top-2 logit margin, and per depth the positions where it is below 1e-5: float32 may order those
two logits either way, so a test allows that many positions of disagreement in top1_agreement).
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

EPS_JAC = 1e-2
AMBIGUOUS = 1e-5


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[a:b]
        dt = info["dtype"]
        if dt == "BF16":
            u16 = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u16.view(np.float32)
        elif dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2")
        else:
            raise SystemExit(f"{path}: unsupported dtype {dt} of {name}")
        out[name] = arr.astype(np.float64).reshape(info["shape"])
    return out


class Model:
    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            c = json.load(f)
        self.c = c
        self.w = load_safetensors(os.path.join(folder, "model.safetensors"))
        self.L = c["num_hidden_layers"]
        self.H = c["hidden_size"]
        self.nH = c["num_attention_heads"]
        self.nKV = c["num_key_value_heads"]
        self.d = c.get("head_dim", self.H // self.nH)
        self.eps = c["rms_norm_eps"]
        self.theta = c["rope_theta"]
        lns = c.get("layernorm_scaling", False)
        self.scale = [1.0 / math.sqrt(l + 1) if lns else 1.0 for l in range(self.L)]
        head = "model.embed_tokens.weight" if c.get("tie_word_embeddings") else "lm_head.weight"
        self.head = self.w[head]
        used = {"model.embed_tokens.weight", "model.norm.weight", head}
        for l in range(self.L):
            used |= {f"model.layers.{l}.{n}.weight" for n in (
                "input_layernorm", "post_attention_layernorm", "self_attn.q_proj", "self_attn.k_proj",
                "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")}
        unused = set(self.w) - used
        if unused:
            raise SystemExit(f"{folder}: unexpected tensors {sorted(unused)}")

    def rope(self, T):
        # fp32 angle table like HF, then widened (the tiny model's positions are < 256, so this is exact enough either way)
        dr = self.d
        inv = (1.0 / (np.float32(self.theta) ** (np.arange(0, dr, 2, dtype=np.float32) / np.float32(dr)))).astype(np.float32)
        ang = np.arange(T, dtype=np.float32)[:, None] * inv[None, :]
        emb = np.concatenate([ang, ang], axis=1).astype(np.float64)
        return np.cos(emb), np.sin(emb)

    def rmsnorm(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def p(self, l, n):
        return self.w[f"model.layers.{l}.{n}.weight"]

    def attention(self, l, h, cs):
        """h: [B, T, H] normed input; returns the attention sublayer output [B, T, H]."""
        B, T, _ = h.shape
        cos, sin = cs
        q = (h @ self.p(l, "self_attn.q_proj").T).reshape(B, T, self.nH, self.d).transpose(0, 2, 1, 3)
        k = (h @ self.p(l, "self_attn.k_proj").T).reshape(B, T, self.nKV, self.d).transpose(0, 2, 1, 3)
        v = (h @ self.p(l, "self_attn.v_proj").T).reshape(B, T, self.nKV, self.d).transpose(0, 2, 1, 3)

        def rot(x):
            half = self.d // 2
            r = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
            return x * cos + r * sin

        q, k = rot(q), rot(k)
        rep = self.nH // self.nKV
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(self.d)
        mask = np.triu(np.ones((T, T), dtype=bool), 1)
        s = np.where(mask, -np.inf, s)
        s = s - s.max(axis=-1, keepdims=True)
        pr = np.exp(s)
        pr /= pr.sum(axis=-1, keepdims=True)
        o = (pr @ v).transpose(0, 2, 1, 3).reshape(B, T, self.nH * self.d)
        return o @ self.p(l, "self_attn.o_proj").T

    def mlp(self, l, h):
        g = h @ self.p(l, "mlp.gate_proj").T
        u = h @ self.p(l, "mlp.up_proj").T
        return (g / (1.0 + np.exp(-g)) * u) @ self.p(l, "mlp.down_proj").T

    def block(self, l, x, cs, attn=True, mlp=True):
        """Block l's map; attn/mlp False replace that sublayer's output by zero."""
        s = self.scale[l]
        if attn:
            x = x + self.attention(l, s * self.rmsnorm(x, self.p(l, "input_layernorm")), cs)
        if mlp:
            x = x + self.mlp(l, s * self.rmsnorm(x, self.p(l, "post_attention_layernorm")))
        return x

    def logits(self, x):
        return self.rmsnorm(x, self.w["model.norm.weight"]) @ self.head.T


def log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def nll_sum(m, x, ids):
    total = 0.0
    for b in range(ids.shape[0]):  # one window at a time: [T, V] float64 logits stay small
        lp = log_softmax(m.logits(x[b]))[:-1, :]
        total -= np.take_along_axis(lp, ids[b, 1:, None], axis=-1).sum()
    return total, ids[:, 1:].size


def run(m, ids, full, removed=None):
    """ids: [B, T]. full=False: only loss and loss_without_layer of the blocks in `removed` (the sanity check)."""
    B, T = ids.shape
    L = m.L
    cs = m.rope(T)
    xs = [m.w["model.embed_tokens.weight"][ids]]
    for l in range(L):
        xs.append(m.block(l, xs[l], cs))
    out = {}
    s, n = nll_sum(m, xs[L], ids)
    out["loss"] = s / n

    def loss_from(l, first):
        """Loss when block l is replaced by first(x[l]) and blocks l+1.. run as usual."""
        x = first(xs[l])
        for j in range(l + 1, L):
            x = m.block(j, x, cs)
        s, n = nll_sum(m, x, ids)
        return s / n

    if not full:
        out["loss_without_layer"] = {l: loss_from(l, lambda x: x) for l in removed}
        return out
    out["loss_without_layer"] = [loss_from(l, lambda x: x) for l in range(L)]

    # token similarity: mean over ordered pairs t != s of one window of cos(x[l][t], x[l][s]), pairs of all windows
    # pooled; the full pairwise cosine matrix, not depthlens' |sum of unit vectors|^2 shortcut
    sim = []
    for l in range(L + 1):
        num = den = 0.0
        for b in range(B):
            X = xs[l][b]
            nrm = np.linalg.norm(X, axis=-1)
            U = X[nrm > 0] / nrm[nrm > 0, None]
            C = U @ U.T
            num += C.sum() - np.trace(C)
            den += U.shape[0] * (U.shape[0] - 1)
        sim.append(float(num / den))
    out["token_similarity"] = sim
    out["loss_without_attention"] = [loss_from(l, lambda x, l=l: m.block(l, x, cs, attn=False)) for l in range(L)]
    out["loss_without_mlp"] = [loss_from(l, lambda x, l=l: m.block(l, x, cs, mlp=False)) for l in range(L)]

    # logit lens: p_l = softmax(head(norm(x[l]))), the final norm recomputed on x[l]
    lpL = log_softmax(m.logits(xs[L]))
    topL = lpL.argmax(axis=-1)
    pL = np.exp(lpL)
    lens_loss, lens_kl, lens_top1, margin, ambiguous = [], [], [], [], []
    for l in range(L + 1):
        z = m.logits(xs[l])
        lp = log_softmax(z)
        tgt = ids[:, 1:]
        lens_loss.append(float(-np.take_along_axis(lp[:, :-1, :], tgt[..., None], axis=-1).mean()))
        lens_kl.append(float((pL * (lpL - lp)).sum(axis=-1).mean()))
        lens_top1.append(float((lp.argmax(axis=-1) == topL).mean()))
        srt = np.sort(z, axis=-1)
        rel = (srt[..., -1] - srt[..., -2]) / np.abs(z).max(axis=-1)
        margin.append(float(rel.min()))
        ambiguous.append(int((rel < AMBIGUOUS).sum()))
    out["logit_lens"] = {"loss": lens_loss, "kl": lens_kl, "top1_agreement": lens_top1}

    # Jacobian deviation: central difference along V = X - mean over the window's tokens
    jac = []
    vx = []
    for l in range(L):
        vals = []
        for b in range(B):
            X = xs[l][b:b + 1]
            V = X - X.mean(axis=1, keepdims=True)
            D = (m.block(l, X + EPS_JAC * V, cs) - m.block(l, X - EPS_JAC * V, cs)) / (2 * EPS_JAC)
            vals.append(np.linalg.norm(D - V) / np.linalg.norm(V))
            vx.append(np.linalg.norm(X) / np.linalg.norm(V))
        jac.append(float(np.mean(vals)))
    out["jacobian_deviation"] = jac
    out["diagnostics"] = {
        "min_relative_top1_margin_per_depth": margin,
        # positions whose two largest logits are closer than AMBIGUOUS x max|logit|: float32 may order them
        # either way, so top1_agreement[l] may differ by (ambiguous[l] + ambiguous[L]) / positions
        "top1_ambiguous_positions_per_depth": ambiguous,
        "positions": int(ids.size),
        "max_norm_ratio_x_over_v": float(max(vx)),
    }
    return out


def windows(path, count, length):
    with open(path) as f:
        ids = json.load(f)
    if count * length > len(ids):
        raise SystemExit(f"{path}: {len(ids)} ids, fewer than {count} x {length}")
    return np.array([ids[w * length:(w + 1) * length] for w in range(count)], dtype=np.int64)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoints", default=os.path.join(here, "..", "..", "shared", "checkpoints", "tiny-curse-24"),
                    help="folder with pre_ln/, lns/, validation_ids.json, reference_metrics.json")
    ap.add_argument("--windows", type=int, default=4)
    ap.add_argument("--len", type=int, default=128)
    ap.add_argument("--models", default="pre_ln,lns")
    ap.add_argument("--check", nargs=2, type=int, metavar=("WINDOWS", "LEN"),
                    help="only compare loss and loss_without_layer with reference_metrics.json on these windows")
    ap.add_argument("--check-layers", default="0,11,23", help="the blocks whose removal --check compares")
    ap.add_argument("--out")
    a = ap.parse_args()
    ck = os.path.abspath(a.checkpoints)
    if a.check:
        ref = json.load(open(os.path.join(ck, "reference_metrics.json")))
        ids = windows(os.path.join(ck, "validation_ids.json"), *a.check)
        worst = 0.0
        for name in a.models.split(","):
            r = run(Model(os.path.join(ck, name)), ids, full=False, removed=[int(l) for l in a.check_layers.split(",")])
            errs = [abs(r["loss"] - ref[name]["loss"]) / ref[name]["loss"]]
            errs += [abs(x - ref[name]["loss_without_layer"][l]) / ref[name]["loss_without_layer"][l]
                     for l, x in r["loss_without_layer"].items()]
            print(f"{name}: loss {r['loss']:.9f} (reference {ref[name]['loss']:.9f}), "
                  f"worst relative error over loss and loss_without_layer {max(errs):.2e}")
            worst = max(worst, max(errs))
        sys.exit(0 if worst < 1e-4 else 1)
    ids = windows(os.path.join(ck, "validation_ids.json"), a.windows, a.len)
    result = {
        "notes": "tools/probe_reference.py: independent float64 NumPy forward of the tiny-curse-24 checkpoints; "
                 f"windows: the first {a.windows} windows of {a.len} consecutive ids of validation_ids.json; "
                 f"jacobian eps {EPS_JAC}",
        "windows": a.windows,
        "window_tokens": a.len,
        "numpy": np.__version__,
    }
    for name in a.models.split(","):
        result[name] = run(Model(os.path.join(ck, name)), ids, full=True)
        print(f"{name}: loss {result[name]['loss']:.6f}", file=sys.stderr)
    text = json.dumps(result, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
