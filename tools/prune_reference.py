#!/usr/bin/env python3
"""Independent float64 reference for `depthlens prune` (PruneParityTest).

Reads every model folder under ROOT (config.json + safetensors, sharded through model.safetensors.index.json
or not) with its own safetensors reader, and runs the HF Llama / Qwen2 / Qwen3 forward in float64 on
ROOT/ids.json (a list of token-id windows). Which blocks use a sliding window follows HF's config classes
(transformers' configuration_qwen2.py / configuration_qwen3.py): an explicit layer_types list wins; else a
block i is sliding iff use_sliding_window and i >= max_window_layers (Llama: never); a sliding block lets
query i see key j iff 0 <= i - j < sliding_window.

For each folder it prints: the sha256 of config.json and the weight files it read, the window of each block
(0 = full attention), the mean next-token loss, the loss with every block on full attention (to show the
windows matter), and for source folders (named src-*) the loss with each block skipped, so that the export
can be compared with the source without that block in float64.

Usage: python3 tools/prune_reference.py ROOT > src/test/resources/prune/reference.json
Nothing here comes from depthlens: only numpy and the files.
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        raw = data[a:b]
        if e["dtype"] == "BF16":
            v = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif e["dtype"] == "F32":
            v = np.frombuffer(raw, dtype="<f4")
        elif e["dtype"] == "F16":
            v = np.frombuffer(raw, dtype="<f2")
        else:
            raise SystemExit(f"{path}: dtype {e['dtype']} not handled")
        out[name] = v.astype(np.float64).reshape(e["shape"])
    return out


def read_model(folder):
    files = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    w = {}
    for f in files:
        w.update(read_safetensors(os.path.join(folder, f)))
    hashes = {f: sha256(os.path.join(folder, f)) for f in files}
    hashes["config.json"] = sha256(os.path.join(folder, "config.json"))
    if os.path.exists(index):
        hashes["model.safetensors.index.json"] = sha256(index)
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    return cfg, w, hashes


def windows_of(cfg):
    n = cfg["num_hidden_layers"]
    t = cfg["model_type"]
    if t == "llama":
        return [0] * n
    use = cfg.get("use_sliding_window", False)
    sw = cfg.get("sliding_window") if use else None
    types = cfg.get("layer_types")
    if types is None:
        mwl = cfg.get("max_window_layers", 28)
        types = ["sliding_attention" if sw is not None and i >= mwl else "full_attention" for i in range(n)]
    if len(types) != n:
        raise SystemExit(f"layer_types has {len(types)} entries for {n} blocks")
    return [sw if (ty == "sliding_attention" and sw is not None) else 0 for ty in types]


def rms(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, theta):
    # x: [heads, T, d]; HF's rotate_half convention
    d = x.shape[-1]
    inv = 1.0 / (theta ** (np.arange(0, d, 2, dtype=np.float64) / d))
    ang = np.arange(x.shape[1], dtype=np.float64)[:, None] * inv[None, :]
    cos = np.cos(np.concatenate([ang, ang], -1))
    sin = np.sin(np.concatenate([ang, ang], -1))
    half = d // 2
    rot = np.concatenate([-x[..., half:], x[..., :half]], -1)
    return x * cos + rot * sin


def block(cfg, w, i, x, window):
    p = f"model.layers.{i}."
    eps = cfg["rms_norm_eps"]
    H, KV = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    hd = cfg.get("head_dim") or cfg["hidden_size"] // H
    T = x.shape[0]
    h = rms(x, w[p + "input_layernorm.weight"], eps)

    def lin(name, v):
        y = v @ w[p + name + ".weight"].T
        if p + name + ".bias" in w:
            y = y + w[p + name + ".bias"]
        return y

    q = lin("self_attn.q_proj", h).reshape(T, H, hd).transpose(1, 0, 2)
    k = lin("self_attn.k_proj", h).reshape(T, KV, hd).transpose(1, 0, 2)
    v = lin("self_attn.v_proj", h).reshape(T, KV, hd).transpose(1, 0, 2)
    if p + "self_attn.q_norm.weight" in w:
        q = rms(q, w[p + "self_attn.q_norm.weight"], eps)
        k = rms(k, w[p + "self_attn.k_norm.weight"], eps)
    theta = cfg.get("rope_theta", 10000.0)
    q, k = rope(q, theta), rope(k, theta)
    k = np.repeat(k, H // KV, axis=0)
    v = np.repeat(v, H // KV, axis=0)
    s = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
    qi = np.arange(T)[:, None]
    kj = np.arange(T)[None, :]
    allowed = kj <= qi
    if window:
        allowed &= (qi - kj) < window
    s = np.where(allowed[None], s, -np.inf)
    s = s - s.max(-1, keepdims=True)
    a = np.exp(s)
    a /= a.sum(-1, keepdims=True)
    o = (a @ v).transpose(1, 0, 2).reshape(T, H * hd)
    x = x + lin("self_attn.o_proj", o)
    h = rms(x, w[p + "post_attention_layernorm.weight"], eps)
    g = lin("mlp.gate_proj", h)
    u = lin("mlp.up_proj", h)
    return x + lin("mlp.down_proj", g / (1 + np.exp(-g)) * u)


def loss(cfg, w, windows, ids, skip=None):
    total, count = 0.0, 0
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    for seq in ids:
        x = w["model.embed_tokens.weight"][np.array(seq)]
        for i in range(cfg["num_hidden_layers"]):
            if i != skip:
                x = block(cfg, w, i, x, windows[i])
        logits = rms(x, w["model.norm.weight"], cfg["rms_norm_eps"]) @ head.T
        m = logits.max(-1, keepdims=True)
        lse = (m + np.log(np.exp(logits - m).sum(-1, keepdims=True)))[:, 0]
        tgt = np.array(seq[1:])
        total += float(np.sum(lse[:-1] - logits[np.arange(len(seq) - 1), tgt]))
        count += len(seq) - 1
    return total / count


def main(root):
    with open(os.path.join(root, "ids.json")) as f:
        ids = json.load(f)
    out = {"generator": "tools/prune_reference.py (numpy float64)", "ids_sha256": sha256(os.path.join(root, "ids.json")), "models": {}}
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if not os.path.isfile(os.path.join(folder, "config.json")):
            continue
        cfg, w, hashes = read_model(folder)
        win = windows_of(cfg)
        m = {"sha256": hashes, "windows": win, "loss": loss(cfg, w, win, ids)}
        if any(win):
            m["loss_all_full"] = loss(cfg, w, [0] * len(win), ids)
        if name.startswith("src-"):
            m["loss_without_block"] = [loss(cfg, w, win, ids, skip=l) for l in range(cfg["num_hidden_layers"])]
        out["models"][name] = m
        print(name, m["loss"], file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
