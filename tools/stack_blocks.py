#!/usr/bin/env python3
"""Writes a deeper Llama-style checkpoint by stacking blocks of a trained one (plain Python, bytes copied):

  python3 tools/stack_blocks.py SRC_DIR OUT_DIR 0-23,8-15

makes OUT_DIR with blocks 0..23 of SRC_DIR followed by copies of blocks 8..15 (32 blocks), the same embeddings,
final norm and head, and config.json's num_hidden_layers changed. Only for checking the window bootstrap at a
depth no shared checkpoint has (docs/metrics.md, "Uncertainty"): the stacked model is a real trained network
with repeated blocks, not a model to draw conclusions from.
"""
import json
import os
import shutil
import struct
import sys

src, out, spec = sys.argv[1:4]
order = []
for part in spec.split(","):
    a, _, b = part.partition("-")
    order += list(range(int(a), int(b or a) + 1))

with open(os.path.join(src, "model.safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()

meta = header.pop("__metadata__", {})
tensors = []  # (name, dtype, shape, bytes)
for name, t in header.items():
    if not name.startswith("model.layers."):
        tensors.append((name, t["dtype"], t["shape"], data[t["data_offsets"][0]:t["data_offsets"][1]]))
for new, old in enumerate(order):
    prefix = f"model.layers.{old}."
    for name, t in header.items():
        if name.startswith(prefix):
            tensors.append((f"model.layers.{new}." + name[len(prefix):], t["dtype"], t["shape"],
                            data[t["data_offsets"][0]:t["data_offsets"][1]]))

os.makedirs(out)
hdr, at = {"__metadata__": dict(meta, note="blocks " + spec + " of " + os.path.abspath(src))}, 0
for name, dt, shape, b in tensors:
    hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [at, at + len(b)]}
    at += len(b)
raw = json.dumps(hdr, separators=(",", ":")).encode()
raw += b" " * (-len(raw) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(raw)))
    f.write(raw)
    for _, _, _, b in tensors:
        f.write(b)
cfg = json.load(open(os.path.join(src, "config.json")))
cfg["num_hidden_layers"] = len(order)
json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
for extra in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
    if os.path.exists(os.path.join(src, extra)):
        shutil.copy(os.path.join(src, extra), out)
print(out, len(order), "blocks")
