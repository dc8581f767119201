#!/usr/bin/python3
"""One Llama-style decoder block (HF eager semantics) in PyTorch on the CPU, float32, for comparison
with `depthlens bench`.

Run with Debian's interpreter and torch:  /usr/bin/python3 bench/torch_block.py [options]
(apt-get install python3-torch libopenblas0-pthread; without libopenblas0-pthread Debian's torch
falls back to the reference BLAS, about 60x slower).

Modes:
  default   time the block --runs times after --warmup runs and print one JSON object
  --serve   read commands from stdin, one per line, and answer each with one JSON line:
              "block N"   N timed block runs  -> {"block_ms": [...]}
              "sgemm N"   N timed 512x2048x2048 matmuls -> {"sgemm_gflops": [...]}
              "quit"
            (`depthlens bench` drives this to interleave Java and PyTorch rounds in the same run)

The block: x += o(attn(rope(q(n1(x))), rope(k(n1(x))), v(n1(x)))); x += down(silu(gate(n2(x))) * up(n2(x)))
with RMSNorm (eps 1e-5), rotate-half RoPE (theta 500000), GQA by repeat_kv, an additive causal mask
and softmax in float32: the same operations as transformers' LlamaDecoderLayer in eager mode.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Block:
    def __init__(self, hidden, heads, kv_heads, inter, seq, theta=500000.0, eps=1e-5, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.hidden, self.heads, self.kv, self.inter, self.seq, self.eps = hidden, heads, kv_heads, inter, seq, eps
        self.d = hidden // heads
        d = self.d

        def w(o, i):
            return (torch.rand(o, i, generator=g) * 2 - 1) / math.sqrt(i)

        self.wq, self.wk, self.wv, self.wo = w(heads * d, hidden), w(kv_heads * d, hidden), w(kv_heads * d, hidden), w(hidden, heads * d)
        self.wg, self.wu, self.wd = w(inter, hidden), w(inter, hidden), w(hidden, inter)
        self.n1 = torch.ones(hidden)
        self.n2 = torch.ones(hidden)
        inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
        ang = torch.outer(torch.arange(seq, dtype=torch.float32), inv)
        emb = torch.cat((ang, ang), dim=-1)
        self.cos, self.sin = emb.cos()[None, None], emb.sin()[None, None]
        m = torch.full((seq, seq), torch.finfo(torch.float32).min)
        self.mask = torch.triu(m, diagonal=1)[None, None]
        self.x = torch.randn(1, seq, hidden, generator=g)

    def forward(self, x):
        b, t, _ = x.shape
        h = rms_norm(x, self.n1, self.eps)
        q = F.linear(h, self.wq).view(b, t, self.heads, self.d).transpose(1, 2)
        k = F.linear(h, self.wk).view(b, t, self.kv, self.d).transpose(1, 2)
        v = F.linear(h, self.wv).view(b, t, self.kv, self.d).transpose(1, 2)
        q = q * self.cos + rotate_half(q) * self.sin
        k = k * self.cos + rotate_half(k) * self.sin
        rep = self.heads // self.kv
        k = k[:, :, None].expand(b, self.kv, rep, t, self.d).reshape(b, self.heads, t, self.d)
        v = v[:, :, None].expand(b, self.kv, rep, t, self.d).reshape(b, self.heads, t, self.d)
        s = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.d) + self.mask
        p = F.softmax(s, dim=-1, dtype=torch.float32)
        ctx = torch.matmul(p, v).transpose(1, 2).reshape(b, t, self.hidden)
        x = x + F.linear(ctx, self.wo)
        h = rms_norm(x, self.n2, self.eps)
        return x + F.linear(F.silu(F.linear(h, self.wg)) * F.linear(h, self.wu), self.wd)

    def flops(self):
        """Multiply-adds x2 of the projections and of both attention products (full T x T, as computed)."""
        t, hd, d = self.seq, self.hidden, self.d
        proj = 2 * t * hd * (self.heads * d + 2 * self.kv * d) + 2 * t * self.heads * d * hd + 3 * 2 * t * hd * self.inter
        attn = 2 * 2 * self.heads * t * t * d
        return proj + attn


def time_block(blk, n):
    out = []
    with torch.inference_mode():
        for _ in range(n):
            t0 = time.perf_counter()
            blk.forward(blk.x)
            out.append((time.perf_counter() - t0) * 1e3)
    return out


def time_sgemm(n, m=512, k=2048, nn=2048):
    a, b = torch.rand(m, k), torch.rand(nn, k)
    out = []
    with torch.inference_mode():
        F.linear(a, b)
        for _ in range(n):
            t0 = time.perf_counter()
            F.linear(a, b)
            out.append(2.0 * m * k * nn / (time.perf_counter() - t0) / 1e9)
    return out


def openblas_core():
    """The kernel of the OpenBLAS torch calls (Debian: libblas.so.3 from libopenblas0-pthread), or None."""
    import ctypes
    try:
        lib = ctypes.CDLL("libblas.so.3")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=2048)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--kv-heads", type=int, default=8)
    ap.add_argument("--intermediate", type=int, default=8192)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--serve", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    blk = Block(a.hidden, a.heads, a.kv_heads, a.intermediate, a.seq)
    time_block(blk, a.warmup)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "flops": blk.flops(), "openblas_core": openblas_core(),
            "shape": {"hidden": a.hidden, "heads": a.heads, "kv_heads": a.kv_heads, "intermediate": a.intermediate, "seq": a.seq}}
    if not a.serve:
        ms = time_block(blk, a.runs)
        info.update(block_ms=ms, block_ms_median=statistics.median(ms),
                    block_gflops=blk.flops() / statistics.median(ms) / 1e6, sgemm_gflops_median=statistics.median(time_sgemm(a.runs)))
        print(json.dumps(info))
        return
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        n = int(cmd[1]) if len(cmd) > 1 else 1
        if cmd[0] == "block":
            print(json.dumps({"block_ms": time_block(blk, n)}), flush=True)
        elif cmd[0] == "sgemm":
            print(json.dumps({"sgemm_gflops": time_sgemm(n)}), flush=True)
        else:
            print(json.dumps({"error": "unknown command " + cmd[0]}), flush=True)


if __name__ == "__main__":
    main()
