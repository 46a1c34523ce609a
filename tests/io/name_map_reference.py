#!/usr/bin/env python3
"""Checkpoints written by the real libraries, for tests/io/name_map_parity_test.cpp.

In the environment of scripts/hf_deps.sh (torch 1.13, timm 1.0.9, open_clip_torch 2.32.0,
transformers 4.45.2; random init, nothing is downloaded). Every parameter is perturbed by
N(0, 0.02) so that zero-initialised biases and unit norms cannot hide a wrong mapping.
Writes into OUT_DIR:
  openclip.safetensors      an open_clip CLIP's state_dict (F64, "visual." and text tower)
  openclip_f16.safetensors  the same CLIP in float16 (F16)
  timm_bf16.safetensors     a small timm ViT in bfloat16 (BF16)
  qwen2/model.safetensors   a tiny Qwen2ForCausalLM in bfloat16, by save_pretrained (tied embeddings)
  reference.safetensors     inputs and outputs (F64): image "x", open_clip encode_image "clip.out"
                            (float64 weights) and "clip_f16.out" (the float16 weights in float64),
                            the text tower's first attention on "attn.x" -> "attn.out", timm's
                            "timm.out", token ids "qwen2.ids" and "qwen2.logits"
The C++ test reads the configurations below (kept in step by hand).

Usage: python name_map_reference.py OUT_DIR
"""
import pathlib
import sys

import open_clip
import timm
import torch
import transformers
from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
from safetensors.torch import save_file

OUT = pathlib.Path(sys.argv[1])


def perturb(model):
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    return model


def state(model):
    return {k: v.detach().contiguous() for k, v in model.state_dict().items()}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    ref = {}

    # open_clip: a ViT image tower (32x32 images, patch 8, width 64, 2 blocks, 4 heads, embed 24).
    clip = perturb(CLIP(embed_dim=24, vision_cfg=CLIPVisionCfg(layers=2, width=64, head_width=16, patch_size=8, image_size=32),
                        text_cfg=CLIPTextCfg(context_length=8, vocab_size=64, width=32, heads=4, layers=1))).double().eval()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        ref["x"] = x
        ref["clip.out"] = clip.encode_image(x)
        attn = clip.transformer.resblocks[0].attn  # torch.nn.MultiheadAttention: packed in_proj_weight
        ax = torch.randn(2, 5, 32, dtype=torch.float64)
        q = ax if attn.batch_first else ax.transpose(0, 1)
        out = attn(q, q, q, need_weights=False)[0]
        ref["attn.x"], ref["attn.out"] = ax, out if attn.batch_first else out.transpose(0, 1)
    save_file(state(clip), str(OUT / "openclip.safetensors"))
    clip.half()
    save_file(state(clip), str(OUT / "openclip_f16.safetensors"))
    with torch.no_grad():
        ref["clip_f16.out"] = clip.double().encode_image(x)

    # timm: vit_tiny's layout at 32x32, patch 8, width 48, 2 blocks, 3 heads, 5 classes.
    vit = perturb(timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8, embed_dim=48, depth=2,
                                    num_heads=3, num_classes=5)).eval()
    vit.bfloat16()
    save_file(state(vit), str(OUT / "timm_bf16.safetensors"))
    with torch.no_grad():
        ref["timm.out"] = vit.double()(x)

    # transformers: a tiny Qwen2 with tied embeddings, saved in bfloat16 as released checkpoints are.
    cfg = transformers.Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=2, rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=True,
                                   max_position_embeddings=64)
    qwen = perturb(transformers.Qwen2ForCausalLM(cfg)).eval().to(torch.bfloat16)
    qwen.save_pretrained(str(OUT / "qwen2"), safe_serialization=True)
    ids = torch.randint(0, 64, (2, 7))
    with torch.no_grad():
        ref["qwen2.ids"] = ids
        ref["qwen2.logits"] = qwen.double()(ids).logits

    save_file({k: v.contiguous() for k, v in ref.items()}, str(OUT / "reference.safetensors"))
    print(f"open_clip {open_clip.__version__}, timm {timm.__version__}, transformers {transformers.__version__}: written to {OUT}")


if __name__ == "__main__":
    main()
