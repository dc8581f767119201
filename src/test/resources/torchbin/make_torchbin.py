#!/usr/bin/env python3
"""Writes the small PyTorch checkpoints the .bin reader tests read, and the values the tests
compare against, in a form depthlens never produced (JSON written here from torch's own tensors).

Run with a real torch (Debian's python3-torch 1.13: /usr/bin/python3 make_torchbin.py) from this
folder. It also records what torch.load reads from every ../shared/fixtures/lns_code checkpoint
(written by the torch that made those fixtures) into lns_code_expected.json. The tests never run Python.
"""
import collections
import json
import os
import sys
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("DEPTHLENS_SHARED", os.path.join(HERE, "../../../../../shared"))
DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}


def describe(t, all_values=True):
    flat = t.detach().contiguous().reshape(-1)
    vals = flat.double().tolist() if t.dtype.is_floating_point else flat.long().tolist()
    d = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "stride": list(t.stride()), "offset": t.storage_offset(),
         "contiguous": t.is_contiguous()}
    if all_values:
        d["values"] = vals
    else:
        d["numel"] = len(vals)
        d["first"] = vals[:5]
        d["last"] = vals[-1] if vals else None
        d["sum"] = float(sum(vals))
    return d


def views():
    """Shared storages, storage offsets, strides (transposed, sliced, broadcast), every dtype, 0-dim, empty."""
    g = torch.Generator().manual_seed(12)
    emb = torch.randn(8, 4, generator=g)
    base = torch.randn(3, 5, generator=g)
    big = torch.randn(4, 6, generator=g)
    bf = torch.randn(3, 4, generator=g).to(torch.bfloat16)
    sd = collections.OrderedDict()
    sd["emb"] = emb
    sd["tied"] = emb                      # the same tensor twice: one storage
    sd["row2"] = emb[2]                   # a view at storage offset 8
    sd["transposed"] = base.t()           # strides (1, 5), saved without .contiguous()
    sd["sliced"] = big[1:, 2:5]           # offset 8, strides (6, 1), gaps between rows
    sd["stepped"] = big[:, ::2]           # strides (6, 2)
    sd["broadcast"] = torch.arange(3, dtype=torch.float32).expand(2, 3)  # stride 0
    sd["bf16"] = bf
    sd["bf16_t"] = bf.t()
    sd["f16"] = torch.tensor([1.0, -2.5, 65504.0, 6e-8, 0.0], dtype=torch.float16)
    sd["f64"] = torch.tensor([[1e-300, 3.0], [-7.25, 2.0 ** 60]], dtype=torch.float64)
    sd["scalar"] = torch.tensor(2.5)      # 0-dim, like raw_scaling_factor_*
    sd["scalar_view"] = emb[3, 1]         # 0-dim view at offset 13 of emb's storage
    sd["ids"] = torch.tensor([-1, 7, 2 ** 40], dtype=torch.int64)
    sd["count"] = torch.tensor(5, dtype=torch.int64)  # like BatchNorm's num_batches_tracked
    sd["mask"] = torch.tensor([True, False, True])
    sd["i32"] = torch.tensor([3, -4], dtype=torch.int32)
    sd["u8"] = torch.tensor([0, 255], dtype=torch.uint8)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.randn(2, 2, generator=g))  # pickled through _rebuild_parameter
    return sd


class RunsShell:
    """What a hostile checkpoint holds: unpickling it calls os.system."""
    def __reduce__(self):
        return (os.system, ("touch /tmp/depthlens-pickle-was-executed",))


class CallsEval:
    def __reduce__(self):
        return (eval, ("open('/tmp/depthlens-pickle-was-executed', 'w')",))


def main():
    out = HERE
    sd = views()
    torch.save(sd, os.path.join(out, "views.bin"))
    described = {k: describe(v) for k, v in sd.items()}
    # torch.save numbers storages "0", "1", ... in the order it first meets them; checked against the bytes
    keys = {}
    with zipfile.ZipFile(os.path.join(out, "views.bin")) as z:
        for k, v in sd.items():
            ptr = v.storage().data_ptr()
            keys.setdefault(ptr, str(len(keys)))
            described[k]["storage_key"] = keys[ptr]
            raw = z.read("views/data/" + keys[ptr])
            assert len(raw) == v.storage().size() * v.element_size(), k
            if v.numel() > 0:
                first = v.storage_offset() * v.element_size()
                assert raw[first:first + v.element_size()] == v.detach().reshape(-1)[:1].contiguous().numpy().tobytes() \
                    if v.dtype != torch.bfloat16 else True, k
    json.dump({"torch": torch.__version__, "tensors": described}, open(os.path.join(out, "views.json"), "w"), indent=1)
    # a module's own state_dict(): an OrderedDict whose _metadata (module versions) torch pickles as BUILD state;
    # BatchNorm adds an int64 0-dim num_batches_tracked
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.LayerNorm(4, elementwise_affine=True))
    net(torch.randn(5, 3))  # training step: running stats and num_batches_tracked move
    msd = net.state_dict()
    assert hasattr(msd, "_metadata")
    torch.save(msd, os.path.join(out, "module.bin"))
    json.dump({"torch": torch.__version__, "tensors": {k: describe(v) for k, v in msd.items()}},
              open(os.path.join(out, "module.json"), "w"), indent=1)
    # the same state dict through pickle protocol 4 (torch.save(pickle_protocol=4): FRAME, MEMOIZE, SHORT_BINUNICODE, ...)
    torch.save(sd, os.path.join(out, "views_protocol4.bin"), pickle_protocol=4)
    # a plain dict, as transformers' shards hold
    torch.save(dict(sd), os.path.join(out, "views_dict.bin"))
    # legacy (pre-1.6) format: refused with a message naming it
    torch.save(collections.OrderedDict(w=torch.ones(2)), os.path.join(out, "legacy.bin"), _use_new_zipfile_serialization=False)
    # hostile pickles: one valid tensor, then a call the reader must never make
    torch.save(collections.OrderedDict(w=torch.ones(2), x=RunsShell()), os.path.join(out, "os_system.bin"))
    torch.save(collections.OrderedDict(w=torch.ones(2), x=CallsEval()), os.path.join(out, "builtins_eval.bin"))
    # a training checkpoint: a dict of dicts, not a state dict
    torch.save({"model": collections.OrderedDict(w=torch.ones(2)), "step": 3}, os.path.join(out, "nested.bin"))

    # what torch.load reads from the lns_code fixtures and the bundled LNS checkpoint saved like the
    # paper's code saves (written by another torch than this script's)
    fx = {}
    root = os.path.join(SHARED, "fixtures/lns_code")
    dirs = [(name, os.path.join(root, name, "model")) for name in sorted(os.listdir(root))]
    dirs.append(("tiny-curse-24-lns-code", os.path.join(SHARED, "checkpoints/tiny-curse-24-lns-code/lns")))
    for name, model in dirs:
        if not os.path.isdir(model):
            continue
        files = sorted(f for f in os.listdir(model) if f.endswith(".bin"))
        tensors = {}
        shared = {}
        for f in files:
            state = torch.load(os.path.join(model, f), map_location="cpu")
            for k, v in state.items():
                tensors[k] = dict(describe(v, all_values=False), file=f)
                key = (f, v.storage().data_ptr())
                shared.setdefault(key, []).append(k)
        fx[name] = {"files": files, "tensors": tensors,
                    "shared_storages": sorted(sorted(v) for v in shared.values() if len(v) > 1)}
    json.dump({"torch": torch.__version__, "fixtures": fx}, open(os.path.join(out, "lns_code_expected.json"), "w"), indent=None, sort_keys=True)
    print("wrote", sorted(os.listdir(out)), file=sys.stderr)


if __name__ == "__main__":
    main()
