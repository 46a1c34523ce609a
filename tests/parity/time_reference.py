"""PyTorch reference for omni's time embeddings (CRTE and RoPE).

CRTE paper mode: a torch transcription of the paper's formula (OmniVinci, arXiv 2510.15870,
sec. 2: omega_k = 2 pi / (T_max theta^(k/(d/2))), one angle per interleaved pair).
CRTE reference mode: a transcription of the released MaxTimeContinuousTimeRotaryEmbedding
(period_mode "shortest" and "longest") and its interleaved apply_rotary_emb, computed in float64
(the release builds inv_freq and the angles in float32; the float64 angles are what omni computes,
and the size of that float32 difference is printed below).
RoPE: the real transformers code (Qwen2RotaryEmbedding, apply_rotary_pos_emb) from the Hugging
Face environment; it computes its angles in float32 whatever the input dtype.

For every case: run on float64 inputs, take loss = sum(out * upstream), backpropagate, and write
inputs, output and gradients to <out_dir>/<case>.safetensors.

Usage: <hf venv>/bin/python time_reference.py OUT_DIR
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


# ---- the released CRTE, restated: per-channel angles, interleaved pairs ----------------------
def swap_pairs(x):
    """(x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...): the interleaved RotateHalf."""
    pairs = x.reshape(*x.shape[:-1], -1, 2)
    return torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)


def rotate_leading(angles, x):
    """Rotates the first angles.shape[-1] channels of x, channel c by angles[..., c]; the rest pass."""
    n = angles.shape[-1]
    head, tail = x[..., :n].double(), x[..., n:]
    angles = angles.double()
    head = head * angles.cos() + swap_pairs(head) * angles.sin()
    return torch.cat((head.to(x.dtype), tail), dim=-1)


def release_frequencies(dim, max_time, period_mode, dtype=torch.float64):
    """The release's inv_freq for period_mode "shortest" (base 5) or "longest"."""
    half = dim // 2
    k = torch.arange(half).to(dtype)
    if period_mode == "shortest":
        return 2 * math.pi / (max_time * 5 ** (k / half))
    if period_mode == "longest":
        return 2 * math.pi / ((max_time ** (half / (half - 1))) ** (k / half))
    raise ValueError(period_mode)


def crte_release(x, t, d, t_max, period_mode, dtype=torch.float64):
    """The release's angles are t * inv_freq, d/2 of them, not repeated per pair (its quirk)."""
    inv_freq = release_frequencies(d, t_max, period_mode, dtype)
    return torch.stack([rotate_leading(t[b][:, None].to(dtype) * inv_freq, x[b]) for b in range(x.shape[0])])


# ---- the paper's CRTE --------------------------------------------------------------------------
def crte_paper(x, t, d, t_max, theta):
    k = torch.arange(d // 2, dtype=torch.float64)
    omega = 2 * math.pi / (t_max * theta ** (k / (d // 2)))
    phi = (t[..., None] * omega).repeat_interleave(2, dim=-1)  # [p0, p0, p1, p1, ...]
    xr, rest = x[..., :d], x[..., d:]
    return torch.cat((xr * phi.cos() + swap_pairs(xr) * phi.sin(), rest), dim=-1)


def with_grads(f, x, seed):
    g = torch.Generator().manual_seed(seed)
    x = x.clone().requires_grad_(True)
    y = f(x)
    up = torch.randn(y.shape, generator=g, dtype=torch.float64)
    (y * up).sum().backward()
    return y.detach(), up, x.grad


def crte_cases(out_dir):
    g = torch.Generator().manual_seed(2510)
    B, N, C, d, t_max = 2, 7, 20, 16, 60.0
    x = torch.randn(B, N, C, generator=g, dtype=torch.float64)
    t = torch.rand(B, N, generator=g, dtype=torch.float64) * 150.0  # past T_max: angles wrap
    y, up, gx = with_grads(lambda v: crte_paper(v, t, d, t_max, 5.0), x, 1)
    safetensors_io.save(f"{out_dir}/crte_paper.safetensors", {"x": x.numpy(), "t": t.numpy(), "y": y.numpy(), "up": up.numpy(), "gx": gx.numpy()})
    for mode in ("shortest", "longest"):
        y, up, gx = with_grads(lambda v: crte_release(v, t, d, t_max, mode), x, 2)
        safetensors_io.save(f"{out_dir}/crte_reference_{mode}.safetensors",
                            {"x": x.numpy(), "t": t.numpy(), "y": y.numpy(), "up": up.numpy(), "gx": gx.numpy()})
        # The release itself builds inv_freq and the angles in float32.
        y32 = crte_release(x, t, d, t_max, mode, dtype=torch.float32)
        print(f"crte reference {mode}: release float32 angles vs float64, max |dy| = {(y32 - y).abs().max().item():.3e}")


# ---- RoPE against transformers -----------------------------------------------------------------
def rope_cases(out_dir):
    from transformers import Qwen2Config
    from transformers.models.qwen2.modeling_qwen2 import Qwen2RotaryEmbedding, apply_rotary_pos_emb

    g = torch.Generator().manual_seed(7)
    B, Hq, Hkv, hd, theta = 2, 4, 2, 16, 1e6
    cfg = Qwen2Config(hidden_size=Hq * hd, num_attention_heads=Hq, num_key_value_heads=Hkv, rope_theta=theta,
                      max_position_embeddings=8192)
    rope = Qwen2RotaryEmbedding(config=cfg)
    for name, N, offset in (("rope", 9, 0), ("rope_offset", 6, 5), ("rope_long", 4, 4000)):
        q = torch.randn(B, Hq, N, hd, generator=g, dtype=torch.float64).requires_grad_(True)
        k = torch.randn(B, Hkv, N, hd, generator=g, dtype=torch.float64).requires_grad_(True)
        pos = torch.arange(offset, offset + N).unsqueeze(0).expand(B, N)
        cos, sin = rope(q, pos)
        qe, ke = apply_rotary_pos_emb(q, k, cos, sin)
        uq = torch.randn(qe.shape, generator=g, dtype=torch.float64)
        uk = torch.randn(ke.shape, generator=g, dtype=torch.float64)
        ((qe * uq).sum() + (ke * uk).sum()).backward()
        safetensors_io.save(f"{out_dir}/{name}.safetensors",
                            {"q": q.detach().numpy(), "k": k.detach().numpy(), "q_embed": qe.detach().numpy(),
                             "k_embed": ke.detach().numpy(), "uq": uq.numpy(), "uk": uk.numpy(), "gq": q.grad.numpy(),
                             "gk": k.grad.numpy(), "offset": torch.tensor([offset], dtype=torch.int64).numpy(),
                             "theta": torch.tensor([theta], dtype=torch.float64).numpy()})


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    crte_cases(out_dir)
    rope_cases(out_dir)
    print("wrote", out_dir)


if __name__ == "__main__":
    main()
