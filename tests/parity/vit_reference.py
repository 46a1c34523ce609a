#!/usr/bin/env python3
"""References for tests/parity/vit_parity_test.cpp: nn::VisionTransformer against timm's
VisionTransformer (timm 1.0.9 over Debian's torch 1.13, the environment of scripts/hf_deps.sh).

Each case is a timm model built with pretrained=False (random init; nothing is downloaded), cast to
float64, run on a random image batch: <out_dir>/<case>.safetensors holds the state_dict by timm's
names, "in.x" (the images), "features" (forward_features), "out" (forward), "upstream" (the output
gradient: loss = sum(out * upstream)), "grad.<param>" for every parameter and "grad.in.x".
The C++ test reads the configurations from CASES below (kept in step by hand).

Usage: build/pyvenv-hf/bin/python vit_reference.py OUT_DIR
"""
import os
import pathlib
import sys

import timm
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

OUT = pathlib.Path(sys.argv[1])

# (case, timm model name, overrides, batch, image height, width)
CASES = [
    # The real preset at its real size: 12 blocks, 197 tokens, 1000-class head.
    ("vit_tiny", "vit_tiny_patch16_224", {}, 2, 224, 224),
    # Non-square, no class token, mean pooling (so fc_norm instead of norm), a head.
    ("avg_nocls", "vit_tiny_patch16_224",
     dict(img_size=(32, 48), patch_size=8, embed_dim=48, depth=2, num_heads=3, num_classes=5,
          global_pool="avg", class_token=False), 3, 32, 48),
    # Non-square, class token, no qkv bias, mlp_ratio 2, CLIP's pre-norm, no head (pooled features).
    ("prenorm_nohead", "vit_tiny_patch16_224",
     dict(img_size=(40, 24), patch_size=8, embed_dim=32, depth=3, num_heads=4, num_classes=0,
          qkv_bias=False, mlp_ratio=2.0, pre_norm=True), 2, 40, 24),
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for name, model_name, overrides, batch, h, w in CASES:
        m = timm.create_model(model_name, pretrained=False, **overrides).double().eval()
        x = torch.randn(batch, 3, h, w, dtype=torch.float64, requires_grad=True)
        features = m.forward_features(x)
        out = m.forward_head(features)
        upstream = torch.randn(out.shape, dtype=out.dtype)
        (out * upstream).sum().backward()
        arrays = {k: v.detach().numpy() for k, v in m.state_dict().items()}
        arrays["in.x"] = x.detach().numpy()
        arrays["grad.in.x"] = x.grad.numpy()
        arrays["features"] = features.detach().numpy()
        arrays["out"] = out.detach().numpy()
        arrays["upstream"] = upstream.numpy()
        for k, p in m.named_parameters():
            arrays["grad." + k] = p.grad.numpy()
        safetensors_io.save(str(OUT / f"{name}.safetensors"), arrays)
        print(f"{name}: timm {timm.__version__}, {sum(p.numel() for p in m.parameters())} parameters, out {tuple(out.shape)}")


if __name__ == "__main__":
    main()
