"""PyTorch reference for omni's nn parity tests.

For every case: build the PyTorch module (written here in plain torch with timm's ViT names and
semantics), run it on seeded inputs, take loss = sum(out * upstream), backpropagate, and write
parameters, inputs, output and every gradient to <out_dir>/<case>.safetensors. The C++ test
loads the same weights into omni's module and must reproduce output and gradients.

Usage: /usr/bin/python3 nn_reference.py OUT_DIR   (Debian's python3-torch)
"""
import math
import os
import sys
import zlib

import torch
import torch.nn as tnn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


class Mlp(tnn.Module):
    def __init__(self, dim, hidden, act):
        super().__init__()
        self.fc1, self.fc2, self.act = tnn.Linear(dim, hidden), tnn.Linear(hidden, dim), act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def sdpa(q, k, v, mask=None, causal=False):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s.masked_fill(mask[:, None, None, :], float("-inf"))
    if causal:
        n, m = s.shape[-2:]
        s = s.masked_fill(torch.ones(n, m, dtype=torch.bool).triu(1), float("-inf"))
    return s.softmax(-1) @ v


class Attention(tnn.Module):
    """timm's Attention (fused qkv) or, with kv_dim, cross-attention with separate q, k, v."""

    def __init__(self, dim, heads, kv_dim=None):
        super().__init__()
        self.heads, self.cross = heads, kv_dim is not None
        if self.cross:
            self.q, self.k, self.v = tnn.Linear(dim, dim), tnn.Linear(kv_dim, dim), tnn.Linear(kv_dim, dim)
        else:
            self.qkv = tnn.Linear(dim, 3 * dim)
        self.proj = tnn.Linear(dim, dim)

    def split(self, t):
        b, n, d = t.shape
        return t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x, ctx=None, mask=None, causal=False):
        b, n, d = x.shape
        if self.cross:
            q, k, v = self.split(self.q(x)), self.split(self.k(ctx)), self.split(self.v(ctx))
        else:
            qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
        o = sdpa(q, k, v, mask, causal)
        return self.proj(o.transpose(1, 2).reshape(b, n, d))


class Block(tnn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.norm2 = tnn.LayerNorm(dim, eps=1e-6), tnn.LayerNorm(dim, eps=1e-6)
        self.attn, self.mlp = Attention(dim, heads), Mlp(dim, 4 * dim, tnn.GELU())

    def forward(self, x, mask=None):
        x = x + self.attn(self.norm1(x), mask=mask)
        return x + self.mlp(self.norm2(x))


class Encoder(tnn.Module):
    def __init__(self, depth, dim, heads):
        super().__init__()
        self.blocks = tnn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = tnn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.norm(x)


class Activations(tnn.Module):
    def forward(self, x):
        return torch.stack([F.relu(x), F.gelu(x), F.gelu(x, approximate="tanh"), F.silu(x), torch.tanh(x), torch.sigmoid(x)])


class Scalars(tnn.Module):
    """Holds a loss's learnable scalars under the names omni's loss modules use."""

    def __init__(self, **values):
        super().__init__()
        for k, v in values.items():
            setattr(self, k, tnn.Parameter(torch.tensor([v])))


def nt_xent(z1, z2, tau):
    """The Omni-C reference form: delete the diagonal, targets N + i - 1 and i."""
    n = z1.shape[0]
    u = F.normalize(torch.cat([z1, z2]), dim=1)
    s = (u @ u.T)[~torch.eye(2 * n, dtype=torch.bool)].view(2 * n, 2 * n - 1) / tau
    return F.cross_entropy(s, torch.cat([torch.arange(n) + n - 1, torch.arange(n)]))


def info_nce(x, y, log_scale):
    logits = log_scale.clamp(0, math.log(100)).exp() * F.normalize(x, dim=1) @ F.normalize(y, dim=1).T
    t = torch.arange(x.shape[0])
    return (F.cross_entropy(logits, t) + F.cross_entropy(logits.T, t)) / 2


def sigmoid_loss(x, y, t, b):
    logits = t.exp() * F.normalize(x, dim=1) @ F.normalize(y, dim=1).T + b
    z = 2 * torch.eye(x.shape[0], dtype=x.dtype) - 1
    return -F.logsigmoid(z * logits).sum() / x.shape[0]


def gram_loss(t, v, a, tau):
    """Volumes from explicit 3 x 3 Gram determinants (an independent route to omni's closed form)."""
    t, v, a = (F.normalize(e, dim=1) for e in (t, v, a))
    b = t.shape[0]
    vecs = torch.stack([t[:, None, :].expand(b, b, -1), v[None].expand(b, b, -1), a[None].expand(b, b, -1)], dim=2)
    vol = torch.linalg.det(vecs @ vecs.transpose(-1, -2)).abs().sqrt()
    logits, lbl = -vol / tau, torch.arange(b)
    return (F.cross_entropy(logits, lbl, label_smoothing=0.1) + F.cross_entropy(logits.T, lbl, label_smoothing=0.1)) / 2


def sincos_1d(n, e):
    k = torch.arange(e // 2, dtype=torch.float64)
    w = 10000.0 ** (-k / (e // 2))
    a = torch.arange(n, dtype=torch.float64)[:, None] * w[None]
    return torch.cat([a.sin(), a.cos()], dim=1)


def sincos_2d(rows, cols, e):
    """Omni-C / MAE layout: first half encodes the column, second half the row; a zero CLS row."""
    r, c = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")
    col, row = sincos_1d(cols, e // 2)[c.reshape(-1)], sincos_1d(rows, e // 2)[r.reshape(-1)]
    return torch.cat([torch.zeros(1, e, dtype=torch.float64), torch.cat([col, row], dim=1)])


class OmniC(tnn.Module):
    """Omni-C written from the paper (sec. III) and its released code, with omni's parameter names."""

    def __init__(self, d=32, depth=2, heads=4, vocab=50, text_len=6, mask_text_padding=False):
        super().__init__()
        self.mask_text_padding = mask_text_padding
        self.patch_embed_image = tnn.Module()
        self.patch_embed_image.proj = tnn.Conv2d(3, d, 7, 7)
        self.patch_embed_audio = tnn.Module()
        self.patch_embed_audio.proj = tnn.Conv2d(1, d, 8, 8)
        self.text_embed = tnn.Embedding(vocab, d)
        self.register_buffer("pos_embed_image", sincos_2d(2, 2, d).float())
        self.register_buffer("pos_embed_audio", sincos_2d(2, 4, d).float())
        self.register_buffer("pos_embed_text", sincos_1d(text_len, d).float())
        self.cls_token = tnn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.blocks = tnn.ModuleList([Block(d, heads) for _ in range(depth)])
        self.norm = tnn.LayerNorm(d, eps=1e-6)
        for m in ("image", "audio", "text"):
            h = tnn.Module()
            h.fc1, h.fc2 = tnn.Linear(d, d), tnn.Linear(d, d)
            setattr(self, "head_" + m, h)

    def forward(self, m, x):
        if m == "text":
            t, cls = self.text_embed(x) + self.pos_embed_text, self.cls_token
        else:
            pe, pos = getattr(self, "patch_embed_" + m), getattr(self, "pos_embed_" + m)
            t = pe.proj(x).flatten(2).transpose(1, 2) + pos[1:]
            cls = self.cls_token + pos[:1]
        mask = None
        if m == "text" and self.mask_text_padding:  # [PAD] keys ignored; the CLS key never is
            mask = torch.cat([torch.zeros(x.shape[0], 1, dtype=torch.bool), x == 0], dim=1)
        x = torch.cat([cls.expand(t.shape[0], -1, -1), t], dim=1)
        for b in self.blocks:
            x = b(x, mask=mask)
        h = self.norm(x)[:, 0]
        head = getattr(self, "head_" + m)
        return head.fc2(F.relu(head.fc1(h)))


def omni_c_step(model, i):
    """Both views of each modality through the shared encoder, NT-Xent per modality, summed."""
    extras, total = {}, 0
    for m in ("image", "audio", "text"):
        z1, z2 = model(m, i[m + "1"]), model(m, i[m + "2"])
        extras["emb." + m + "1"], extras["emb." + m + "2"] = z1, z2
        total = total + nt_xent(z1, z2, 0.05)
    return total, extras


def run(out_dir, name, module, inputs, call, randomize=True):
    """inputs: name -> tensor (float ones get gradients); call(module, inputs) -> output.

    The reference runs in float64: it is the ground truth that omni's float32 is held to
    (PyTorch's own float32 result differs from it by as much as omni's does)."""
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    module = module.double()
    inputs = {k: (v.double() if v.is_floating_point() else v) for k, v in inputs.items()}
    with torch.no_grad():
        for p in module.parameters():
            if randomize:  # non-default values so a wrong mapping of weight or bias cannot pass
                p.add_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.1)
            p.copy_(p.float().double())  # exactly representable in omni's float32
    inputs = {k: (v.float().double() if v.is_floating_point() else v) for k, v in inputs.items()}
    for t in inputs.values():
        if t.is_floating_point():
            t.requires_grad_(True)
    out = call(module, inputs)
    extras = {}
    if isinstance(out, tuple):
        out, extras = out
    upstream = torch.randn(out.shape, generator=g, dtype=torch.float64).float().double()
    (out * upstream).sum().backward()
    upstream_f32 = upstream.float()
    f32 = lambda t: t.detach().float().numpy() if t.is_floating_point() else t.detach().numpy()  # noqa: E731
    arrays = {k: f32(v) for k, v in module.state_dict().items()}
    arrays.update({"grad." + k: f32(p.grad) for k, p in module.named_parameters()})
    for k, t in inputs.items():
        arrays["in." + k] = f32(t)
        if t.is_floating_point():
            arrays["grad.in." + k] = f32(t.grad)
    arrays["out"] = f32(out)
    arrays.update({k: f32(v) for k, v in extras.items()})
    arrays["upstream"] = upstream_f32.numpy()
    safetensors_io.save(os.path.join(out_dir, name + ".safetensors"), arrays)
    print(f"{name}: out {tuple(out.shape)}, {len(list(module.parameters()))} parameters")


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    r = torch.randn
    pad = torch.tensor([[False] * 5 + [True] * 2, [False] * 7])
    run(out_dir, "linear", tnn.Linear(24, 16), {"x": r(3, 5, 24)}, lambda m, i: m(i["x"]))
    run(out_dir, "layer_norm", tnn.LayerNorm(24, eps=1e-6), {"x": r(3, 5, 24) * 3 + 1}, lambda m, i: m(i["x"]))
    run(out_dir, "mlp", Mlp(24, 96, tnn.GELU()), {"x": r(3, 5, 24)}, lambda m, i: m(i["x"]))
    run(out_dir, "activations", Activations(), {"x": r(4, 10) * 3}, lambda m, i: m(i["x"]), randomize=False)
    run(out_dir, "embedding", tnn.Embedding(50, 16), {"ids": torch.randint(0, 50, (3, 7))}, lambda m, i: m(i["ids"]))
    run(out_dir, "attention", Attention(32, 4), {"x": r(2, 7, 32)}, lambda m, i: m(i["x"]))
    run(out_dir, "attention_masked", Attention(32, 4), {"x": r(2, 7, 32), "mask": pad},
        lambda m, i: m(i["x"], mask=i["mask"], causal=True))
    run(out_dir, "attention_cross", Attention(32, 4, kv_dim=24), {"x": r(2, 5, 32), "context": r(2, 7, 24), "mask": pad},
        lambda m, i: m(i["x"], ctx=i["context"], mask=i["mask"]))
    run(out_dir, "block", Block(64, 4), {"x": r(2, 9, 64), "mask": torch.tensor([[False] * 9, [False] * 6 + [True] * 3])},
        lambda m, i: m(i["x"], mask=i["mask"]))
    run(out_dir, "encoder_small", Encoder(3, 64, 4), {"x": r(2, 9, 64)}, lambda m, i: m(i["x"]))
    run(out_dir, "loss_nt_xent", Scalars(), {"z1": r(6, 8), "z2": r(6, 8)}, lambda m, i: nt_xent(i["z1"], i["z2"], 0.05))
    run(out_dir, "loss_info_nce", Scalars(logit_scale=math.log(1 / 0.07)), {"x": r(6, 8), "y": r(6, 8)},
        lambda m, i: info_nce(i["x"], i["y"], m.logit_scale), randomize=False)
    run(out_dir, "loss_sigmoid", Scalars(logit_scale=math.log(10), logit_bias=-10.0), {"x": r(6, 8), "y": r(6, 8)},
        lambda m, i: sigmoid_loss(i["x"], i["y"], m.logit_scale, m.logit_bias), randomize=False)
    run(out_dir, "loss_gram", Scalars(tau=0.07), {"t": r(5, 8), "v": r(5, 8), "a": r(5, 8)},
        lambda m, i: gram_loss(i["t"], i["v"], i["a"], m.tau), randomize=False)
    ids = lambda: torch.randint(0, 50, (3, 6))  # noqa: E731
    run(out_dir, "omni_c", OmniC(), {"image1": r(3, 3, 14, 14), "image2": r(3, 3, 14, 14), "audio1": r(3, 1, 16, 32),
                                     "audio2": r(3, 1, 16, 32), "text1": ids(), "text2": ids()}, omni_c_step)
    padded = lambda: torch.randint(1, 50, (3, 6)) * (torch.arange(6) < torch.tensor([[2], [4], [6]]))  # noqa: E731
    run(out_dir, "omni_c_text_mask", OmniC(mask_text_padding=True), {"image1": r(3, 3, 14, 14), "image2": r(3, 3, 14, 14),
        "audio1": r(3, 1, 16, 32), "audio2": r(3, 1, 16, 32), "text1": padded(), "text2": padded()}, omni_c_step)
    run(out_dir, "vit_b32", Encoder(12, 768, 12), {"x": r(2, 50, 768)}, lambda m, i: m(i["x"]))


if __name__ == "__main__":
    main()
