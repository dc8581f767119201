#!/usr/bin/env python3
"""How close a plain float32 forward of the gemma2 LitGPT fixture can get to its float64 reference.

The fixture ../shared/fixtures/litgpt_ref/gemma2 has attention scores up to ~30 after soft-capping, so the
float32 rounding of q and k (about 5e-6 on a score) moves the peaked attention weights and the error
roughly doubles block after block. This script runs the Gemma-2 block in NumPy (independently of
depthlens) in float64 and in float32 and prints the worst relative error of each resid.l against the
reference, which is why FixtureSet gives that one fixture a stream tolerance of 2e-5.

Usage: python3 tools/gemma2_float32_check.py [SHARED_DIR]   (default ../shared). Output of the committed run:
    float64 resid.1 1.4e-07 resid.2 4.8e-07 resid.3 9.3e-07 resid.4 1.3e-06
    float32 resid.1 7.8e-07 resid.2 2.3e-06 resid.3 3.3e-06 resid.4 7.1e-06
(depthlens, float32: resid.4 1.1e-05, logits 7.6e-06)
"""
import json
import math
import struct
import sys

import numpy as np


def load(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        raw = b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
        if v["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype={"F32": np.float32, "F16": np.float16, "I64": np.int64}[v["dtype"]])
        out[k] = arr.reshape(v["shape"]).astype(np.float64)
    return out


def run(d, dt):
    cfg = json.load(open(d + "/model/config.json"))
    w = {k: v.astype(dt) for k, v in load(d + "/model/model.safetensors").items()}
    r = load(d + "/reference.safetensors")
    hidden, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps, cap, rep = cfg["rms_norm_eps"], cfg["attn_logit_softcapping"], nh // nkv
    ids = r["input_ids"].astype(np.int64)
    x = (w["model.embed_tokens.weight"][ids] * dt(math.sqrt(hidden))).astype(dt)
    b, t, _ = x.shape

    def rms(v, g):
        return (v / np.sqrt((v * v).mean(-1, keepdims=True) + dt(eps)) * (dt(1) + g)).astype(dt)

    # HF's rotary table: float32 inverse frequencies and angles
    inv = (1.0 / (np.float32(cfg["rope_theta"]) ** (np.arange(0, hd, 2, dtype=np.float32) / np.float32(hd)))).astype(np.float32)
    ang = (np.arange(t, dtype=np.float32)[:, None] * inv[None, :]).astype(np.float32)
    emb = np.concatenate([ang, ang], -1)
    cos, sin = np.cos(emb).astype(dt), np.sin(emb).astype(dt)

    def rot(a):
        return a * cos[None, :, None, :] + np.concatenate([-a[..., hd // 2:], a[..., :hd // 2]], -1) * sin[None, :, None, :]

    scale = dt(cfg["query_pre_attn_scalar"] ** -0.5)
    errors = []
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        window = cfg["sliding_window"] if l % 2 == 0 else 0
        h = rms(x, w[p + "input_layernorm.weight"])
        q = rot((h @ w[p + "self_attn.q_proj.weight"].T).reshape(b, t, nh, hd))
        k = np.repeat(rot((h @ w[p + "self_attn.k_proj.weight"].T).reshape(b, t, nkv, hd)), rep, axis=2)
        v = np.repeat((h @ w[p + "self_attn.v_proj.weight"].T).reshape(b, t, nkv, hd), rep, axis=2)
        s = np.einsum("bihd,bjhd->bhij", q, k) * scale
        s = (np.tanh(s / dt(cap)) * dt(cap)).astype(dt)
        i, j = np.arange(t)[:, None], np.arange(t)[None, :]
        mask = j <= i
        if window > 0:
            mask &= j > i - window
        s = np.where(mask[None, None], s, -np.inf)
        pr = np.exp(s - s.max(-1, keepdims=True))
        pr = (pr / pr.sum(-1, keepdims=True)).astype(dt)
        o = np.einsum("bhij,bjhd->bihd", pr, v).reshape(b, t, nh * hd) @ w[p + "self_attn.o_proj.weight"].T
        x = x + rms(o, w[p + "post_attention_layernorm.weight"])
        h2 = rms(x, w[p + "pre_feedforward_layernorm.weight"])
        g, u = h2 @ w[p + "mlp.gate_proj.weight"].T, h2 @ w[p + "mlp.up_proj.weight"].T
        gelu = (dt(0.5) * g * (dt(1) + np.tanh(dt(math.sqrt(2 / math.pi)) * (g + dt(0.044715) * g ** 3)))).astype(dt)
        x = (x + rms((gelu * u) @ w[p + "mlp.down_proj.weight"].T, w[p + "post_feedforward_layernorm.weight"])).astype(dt)
        ref = r[f"resid.{l + 1}"]
        errors.append(f"resid.{l + 1} {np.abs(x - ref).max() / np.abs(ref).max():.1e}")
    return errors


if __name__ == "__main__":
    shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
    d = shared + "/fixtures/litgpt_ref/gemma2"
    print("float64", " ".join(run(d, np.float64)))
    print("float32", " ".join(run(d, np.float32)))
