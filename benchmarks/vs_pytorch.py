#!/usr/bin/env python3
"""omni vs PyTorch 2.x on the same models, weights and inputs, in one session (scripts/vs_pytorch.sh).

omni's side is the vs_pytorch server (benchmarks/vs_pytorch.cpp): it writes its weights and inputs
as safetensors, this script loads them into the same models written in PyTorch, checks that both
compute the same features and gradients, then times the rows alternately (omni, each PyTorch
variant, omni, ...) after warm-up and writes a Markdown table of medians.

  vs_pytorch.py --omni build/benchmarks/vs_pytorch [--batch 8] [--reps 7] [--out table.md] [--no-compile]
  vs_pytorch.py --omni ... --check      agreement only (small batch; the test suite runs it)

Works with torch 1.13 (Debian) for --check; the timing run wants torch >= 2 (SDPA, torch.compile).
"""
import argparse
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    out = {}
    for name, m in header.items():
        if name == "__metadata__":
            continue
        a, b = m["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dtypes[m["dtype"]]).reshape(m["shape"]).copy())
    return out


# ---- the models, with omni's parameter names (Omni-C's release names) ----------------------------

class Attention(nn.Module):
    def __init__(self, dim, heads, sdpa):
        super().__init__()
        self.heads, self.sdpa = heads, sdpa and HAS_SDPA
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        if self.sdpa:
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            o = torch.softmax(q @ k.transpose(-2, -1) * (c // self.heads) ** -0.5, -1) @ v
        return self.proj(o.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, sdpa):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.attn, self.mlp = Attention(dim, heads, sdpa), Mlp(dim, 4 * dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, channels, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, patch, stride=patch)


class Head(nn.Module):
    def __init__(self, dim, hidden, out):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, out)

    def forward(self, h):
        return self.fc2(F.relu(self.fc1(h)))


class OmniC(nn.Module):
    """Omni-C's shared ViT over images: patch conv, CLS, fixed sin-cos positions, pre-LN blocks,
    final LayerNorm, CLS feature; the image projection head (Omni-C sec. III-A)."""

    def __init__(self, weights, dim, depth, heads, patch, sdpa=True):
        super().__init__()
        self.dim = dim
        self.patch_embed_image = PatchEmbed(3, dim, patch)
        self.register_buffer("pos_embed_image", weights["pos_embed_image"].clone())
        self.cls_token = nn.Parameter(torch.zeros(weights["cls_token"].shape))
        self.blocks = nn.ModuleList([Block(dim, heads, sdpa) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head_image = Head(dim, weights["head_image.fc1.weight"].shape[0], weights["head_image.fc2.weight"].shape[0])
        own = self.state_dict()
        if set(own) != set(weights):
            raise SystemExit(f"vs_pytorch: names differ: only omni {sorted(set(weights) - set(own))}, only torch {sorted(set(own) - set(weights))}")
        with torch.no_grad():
            for name, t in own.items():
                t.copy_(weights[name].reshape(t.shape))

    def encode(self, img):
        x = self.patch_embed_image.proj(img).flatten(2).transpose(1, 2)
        pos = self.pos_embed_image.reshape(-1, self.dim)
        cls = (self.cls_token.reshape(1, 1, self.dim) + pos[:1]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x + pos[1:]], 1)
        for b in self.blocks:
            x = b(x)
        return self.norm(x)[:, 0]

    def forward(self, img):
        return self.head_image(self.encode(img))


def nt_xent(z1, z2, temperature):
    n = z1.shape[0]
    u = F.normalize(torch.cat([z1, z2]), dim=-1)
    s = (u @ u.T / temperature).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    return F.cross_entropy(s, (torch.arange(2 * n) + n) % (2 * n))


def adamw(model, lr, wd):
    # omni's nn_param_groups (timm's add_weight_decay): no decay on 1-D tensors and biases.
    plain = lambda n, p: p.ndim == 1 or n.endswith(".bias")
    decay = [p for n, p in model.named_parameters() if not plain(n, p)]
    rest = [p for n, p in model.named_parameters() if plain(n, p)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}], lr=lr)


# ---- the omni server -----------------------------------------------------------------------------

class Omni:
    def __init__(self, exe, workdir, batch, tokens, threads):
        env = dict(os.environ, OMNI_NUM_THREADS=str(threads))
        self.p = subprocess.Popen([exe, "--dir", workdir, "--batch", str(batch), "--tokens", str(tokens)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env)
        self.ready = self._read()

    def _read(self):
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit(f"vs_pytorch: the omni server stopped (exit {self.p.wait()})")
        return line.strip()

    def ask(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        return self._read()

    def time(self, row, n=1):
        return [float(x) for x in self.ask(f"time {row} {n}").split()]

    def close(self):
        self.p.stdin.write("quit\n")
        self.p.stdin.close()
        self.p.wait()


def max_rel(a, b):
    return ((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30)).item()


def rel_l2(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-300)).item()


def check(omni, workdir, weights, inputs, bf16_path):
    """Features and gradients of sum(h * readout) on both sides; returns (ok, report lines)."""
    assert omni.ask("check") == "ok"
    o = load_safetensors(os.path.join(workdir, "check.safetensors"))
    m = OmniC(weights, 768, 12, 12, 32, sdpa=False).double()
    img = inputs["img"].double()
    h = m.encode(img)
    (h * inputs["readout"].double()).sum().backward()
    grads = {"blocks.0.attn.qkv.weight": m.blocks[0].attn.qkv.weight.grad, "patch_embed_image.proj.weight": m.patch_embed_image.proj.weight.grad,
             "cls_token": m.cls_token.grad}
    e = {"features": max_rel(o["features"], h.detach())}
    for name, g in grads.items():
        e["d " + name] = max_rel(o["grad." + name], g.reshape(o["grad." + name].shape))
    q, k, v = (inputs[x][:, :, :256].double() for x in "qkv")
    future = torch.ones(256, 256).triu(1).bool()
    sm = lambda causal: torch.softmax((q @ k.transpose(-2, -1) / 8).masked_fill(future & causal, float("-inf")), -1) @ v
    e["attention 256 tokens"] = max_rel(o["attn_small"], sm(False))
    e["attention 256 tokens, causal"] = max_rel(o["attn_small_causal"], sm(True))
    ok = e["features"] < 1e-4 and all(v < 1e-3 for k, v in e.items() if k.startswith("d ")) and e["attention 256 tokens"] < 1e-5 and e["attention 256 tokens, causal"] < 1e-5
    lines = [f"agreement, omni fp32 vs PyTorch {torch.__version__} float64 (max |diff| / max |torch|): " + ", ".join(f"{k} {v:.1e}" for k, v in e.items())]
    # bf16 operands keep 8 significant bits, so the features move by a few 1e-3 through 12 blocks;
    # omni's bf16 paths must stay under 1e-2 and (where PyTorch 2's autocast runs) not drift
    # further than 1.25x what autocast does to the same model.
    bf16_limit = 1e-2
    if HAS_SDPA:
        with torch.no_grad():
            m32 = OmniC(weights, 768, 12, 12, 32).float()
            f32 = m32.encode(inputs["img"])
            with torch.autocast("cpu", dtype=torch.bfloat16):
                fb = m32.encode(inputs["img"]).float()
        lt = rel_l2(fb, f32)
        bf16_limit = min(bf16_limit, 1.25 * lt)
    lb = rel_l2(o["features_bf16"], o["features"])
    lines.append(f"omni bf16 matmuls ({bf16_path}): features ||bf16 - fp32|| / ||fp32|| = {lb:.2e}" + ("" if bf16_path != "none" else " (no bf16 path on this CPU: fp32 ran)"))
    if bf16_path != "none":
        ok = ok and lb < bf16_limit
    if "features_bf16_avx512" in o:  # the AVX512-BF16 kernel, run even where matmul does not pick it
        ld = rel_l2(o["features_bf16_avx512"], o["features"])
        lines.append(f"omni AVX512-BF16 kernel (forced): features ||bf16 - fp32|| / ||fp32|| = {ld:.2e}")
        ok = ok and ld < bf16_limit
    if HAS_SDPA:
        lines.append(f"PyTorch bf16 autocast: features ||bf16 - fp32|| / ||fp32|| = {lt:.2e}")
    lines.append(f"bf16 features must stay under {bf16_limit:.2e}")
    lines.append("omni and PyTorch agree" if ok else "omni and PyTorch DISAGREE")
    return ok, lines


# ---- timing --------------------------------------------------------------------------------------

def cpu_description():
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and model in ("unknown CPU", "", platform.processor()):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    isa = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    return f"{model}, {os.cpu_count()} logical CPUs, ISA: {' '.join(isa) or 'none of avx2/avx512/amx'}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--omni", required=True, help="the vs_pytorch server executable")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", "2")))
    ap.add_argument("--omni-blas", help="the same server linked with omni::blas (large matmuls through the system BLAS): adds a column")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile columns (they compile for minutes on 2 cores)")
    ap.add_argument("--only", default="", help="time only rows whose name contains this")
    ap.add_argument("--out")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as workdir, tempfile.TemporaryDirectory() as workdir_blas:
        omni = Omni(a.omni, workdir, 2 if a.check else a.batch, 256 if a.check else a.tokens, a.threads)
        info = omni.ask("info").split()
        bf16_path = info[1]
        omni_isa = f"omni's kernels {info[5]} (OMNI_CPU_ISA), Eigen compiled for {' '.join(info[7:])}"
        weights = load_safetensors(os.path.join(workdir, "vit.safetensors"))
        inputs = load_safetensors(os.path.join(workdir, "inputs.safetensors"))
        ok, report = check(omni, workdir, weights, inputs, bf16_path)
        omni_blas, blas = None, None
        if a.omni_blas:
            omni_blas = Omni(a.omni_blas, workdir_blas, 2 if a.check else a.batch, 256 if a.check else a.tokens, a.threads)
            blas = omni_blas.ask("info").split()[3]
            ok_b, report_b = check(omni_blas, workdir_blas, weights, inputs, bf16_path)
            report.insert(-1, f"omni with omni::blas (large matmuls: {blas}): " + report_b[0])
            ok = ok and ok_b
        print("\n".join(report), flush=True)
        if a.check or not ok:
            for o in (omni, omni_blas):
                if o:
                    o.close()
            return 0 if ok else 1
        table = time_rows(a, omni, bf16_path, weights, load_safetensors(os.path.join(workdir, "tiny.safetensors")), inputs, omni_blas, blas)
        for o in (omni, omni_blas):
            if o:
                o.close()
    md = (f"CPU: {cpu_description()}. PyTorch {torch.__version__} (CPU capability {torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, 'cpu') else '?'}), {omni_isa}; "
          f"{a.threads} threads each; ViT-B/32 batch {a.batch} at 224x224; attention one sequence of {a.tokens} tokens, 12 heads of 64; "
          f"Omni-C tiny pretraining step: two views of 64 28x28 images, NT-Xent, AdamW. Medians of {a.reps} alternating runs after warm-up, ms.\n\n"
          + table + "\n" + "\n".join("- " + r for r in report) + "\n")
    print(md)
    if a.out:
        with open(a.out, "w") as f:
            f.write(md)
    return 0


def time_rows(a, omni, bf16_path, weights, tiny_weights, inputs, omni_blas=None, blas=None):
    torch.manual_seed(0)
    vit = OmniC(weights, 768, 12, 12, 32)
    vit_manual = OmniC(weights, 768, 12, 12, 32, sdpa=False)
    tiny = OmniC(tiny_weights, 128, 4, 4, 7)
    opt_vit, opt_tiny = adamw(vit, 1e-4, 0.1), adamw(tiny, 1e-3, 0.05)
    img, v1, v2 = inputs["img"], inputs["view1"], inputs["view2"]
    q, k, v = inputs["q"], inputs["k"], inputs["v"]
    qb, kb, vb = q.bfloat16(), k.bfloat16(), v.bfloat16()
    bf16 = lambda: torch.autocast("cpu", dtype=torch.bfloat16)

    def vit_fwd(m=vit, ac=False):
        def f():
            with torch.inference_mode():
                if ac:
                    with bf16():
                        m.encode(img)
                else:
                    m.encode(img)
        return f

    def vit_train(step, ac):
        def f():
            if ac:
                with bf16():
                    loss = vit.encode(img).float().pow(2).mean()
            else:
                loss = vit.encode(img).pow(2).mean()
            loss.backward()
            if step:
                opt_vit.step()
            opt_vit.zero_grad(set_to_none=True)
        return f

    def tiny_step(ac):
        def f():
            if ac:
                with bf16():
                    loss = nt_xent(tiny(v1).float(), tiny(v2).float(), 0.2)
            else:
                loss = nt_xent(tiny(v1), tiny(v2), 0.2)
            loss.backward()
            opt_tiny.step()
            opt_tiny.zero_grad(set_to_none=True)
        return f

    def attn(x, y, z, manual=False, bwd=False):
        def f():
            if bwd:
                xx, yy, zz = (t.detach().requires_grad_() for t in (x, y, z))
                F.scaled_dot_product_attention(xx, yy, zz).float().sum().backward()
            else:
                with torch.inference_mode():
                    if manual:
                        torch.softmax(x @ y.transpose(-2, -1) * 0.125, -1) @ z
                    else:
                        F.scaled_dot_product_attention(x, y, z)
        return f

    compiled = {}
    if not a.no_compile and hasattr(torch, "compile"):
        t0 = time.perf_counter()
        c = torch.compile(vit)
        compiled["fp32"] = vit_fwd(c)
        compiled["fp32"]()
        compiled["bf16"] = vit_fwd(c, True)
        compiled["bf16"]()
        print(f"torch.compile: {time.perf_counter() - t0:.0f} s to compile", file=sys.stderr, flush=True)

    # Each row: omni rows (server names) and PyTorch variants {column: callable}.
    rows = [
        ("ViT-B/32 forward (inference)", "vit_fwd", {"fp32": vit_fwd(), "bf16": vit_fwd(ac=True), **{"compile " + k: f for k, f in compiled.items()}}),
        ("ViT-B/32 forward + backward", "vit_fwd_bwd", {"fp32": vit_train(False, False), "bf16": vit_train(False, True)}),
        ("ViT-B/32 training step (AdamW)", "vit_step", {"fp32": vit_train(True, False), "bf16": vit_train(True, True)}),
        (f"attention {a.tokens} tokens x 12 heads, forward", "attn_fwd",
         {"fp32": attn(q, k, v), "bf16": attn(qb, kb, vb), "fp32 unfused": attn(q, k, v, manual=True)}),
        (f"attention {a.tokens} tokens x 12 heads, forward + backward", "attn_fwd_bwd", {"fp32": attn(q, k, v, bwd=True), "bf16": attn(qb, kb, vb, bwd=True)}),
        ("Omni-C tiny pretraining step", "tiny_step", {"fp32": tiny_step(False), "bf16": tiny_step(True)}),
    ]
    if not HAS_SDPA:
        rows = [r for r in rows if not r[1].startswith("attn")]
    omni_precisions = ["fp32"] + (["bf16"] if bf16_path != "none" else [])
    results = []
    for title, server_row, torch_variants in rows:
        if a.only and a.only not in title and a.only not in server_row:
            continue
        sides = {f"omni {p}": (lambda p=p, r=server_row: omni.time(f"{r}_{p}")[0]) for p in omni_precisions if not (p == "bf16" and server_row.startswith("attn"))}
        if omni_blas and not server_row.startswith("attn"):  # attention's tile products stay with Eigen
            sides["omni fp32 blas"] = lambda r=server_row: omni_blas.time(f"{r}_fp32")[0]
        for name, f in torch_variants.items():
            sides["torch " + name] = (lambda f=f: timed(f))
        reps = a.reps if not server_row.startswith("attn") else max(3, a.reps // 2)
        for side in sides.values():  # warm-up: allocators, thread pools, packed weights
            side(), side()
        t = {name: [] for name in sides}
        for _ in range(reps):
            for name, side in sides.items():
                t[name].append(side())
        med = {name: statistics.median(v) * 1e3 for name, v in t.items()}
        print(title + ": " + ", ".join(f"{k} {v:.1f}" for k, v in med.items()), file=sys.stderr, flush=True)
        results.append((title, med))
    cols = ["omni fp32", "omni fp32 blas", "omni bf16", "torch fp32", "torch bf16", "torch compile fp32", "torch compile bf16", "torch fp32 unfused"]
    cols = [c for c in cols if any(c in m for _, m in results)]
    head = {"omni fp32 blas": f"omni fp32, {blas or 'BLAS'}", "torch fp32": "PyTorch fp32", "torch bf16": "PyTorch bf16", "torch compile fp32": "torch.compile fp32",
            "torch compile bf16": "torch.compile bf16", "torch fp32 unfused": "PyTorch fp32, unfused"}
    lines = ["| measurement | " + " | ".join(head.get(c, c) for c in cols) + " | omni fp32 / PyTorch fp32 | omni best / PyTorch best |",
             "|---" * (len(cols) + 3) + "|"]
    for title, med in results:
        cells = [f"{med[c]:.1f}" if c in med else "" for c in cols]
        omni_best = min(v for k, v in med.items() if k.startswith("omni"))
        torch_best = min(v for k, v in med.items() if k.startswith("torch") and "unfused" not in k)
        lines.append(f"| {title} | " + " | ".join(cells) + f" | {med['omni fp32'] / med['torch fp32']:.2f} | {omni_best / torch_best:.2f} |")
    notes = ["PyTorch fp32 uses F.scaled_dot_product_attention in the ViT (timm's default); PyTorch bf16 is torch.autocast(cpu, bfloat16), "
             "and for attention bf16 inputs. omni bf16 is matmul_precision::bf16 " +
             {"amx": "(AMX tiles).", "avx512_bf16": "(AVX512-BF16 dot products, which its probe found faster than fp32 FMAs here)."}.get(
                 bf16_path, "and needs AMX, or AVX512-BF16 that runs faster than fp32 FMAs, which this CPU lacks: no omni bf16 column.")]
    if omni_blas:
        notes.append(f"omni fp32, {blas}: the same server linked with omni::blas, large matmuls through the system BLAS (OpenBLAS core {blas}); "
                     "omni fp32 is the default build (large float32 products in omni's sgemm where the CPU has AVX2, else Eigen).")
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main())
