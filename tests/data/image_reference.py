#!/usr/bin/env python3
"""torchvision references for tests/data/image_test.cpp.

Usage: image_reference.py DIR
Reads DIR/rgb.f32 ([3, 37, 53]) and DIR/grey.f32 ([1, 37, 53]), raw little-endian float32 written
by the C++ test, runs each case below through torchvision's tensor functional API (the
semantics omni's image transforms follow) and writes DIR/<case>.f32 plus DIR/cases.txt, one
line per case: name and shape. Exits 77 when torchvision is missing so the test can skip.
"""
import sys
from pathlib import Path

try:
    import numpy as np
    import torch
    import torchvision.transforms.functional as F
    from torchvision.transforms import InterpolationMode
except ImportError as e:  # the C++ test reports this as a skip
    print(f"image_reference: {e}", file=sys.stderr)
    sys.exit(77)

H, W = 37, 53
BILINEAR = InterpolationMode.BILINEAR


def load(path, c):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(c, H, W).copy())


def cases(rgb, grey):
    # Sizes cover strong and mild shrinking, enlarging, and each axis going its own way.
    for oh, ow in [(17, 20), (5, 7), (80, 61), (50, 20), (37, 53)]:
        yield f"resize_aa_{oh}x{ow}", F.resize(rgb, [oh, ow], BILINEAR, antialias=True)
        yield f"resize_plain_{oh}x{ow}", F.resize(rgb, [oh, ow], BILINEAR, antialias=False)
    yield "resize_shorter_24", F.resize(rgb, 24, BILINEAR, antialias=True)
    yield "resized_crop", F.resized_crop(rgb, 3, 5, 20, 30, [28, 28], BILINEAR, antialias=True)
    yield "center_crop_20x31", F.center_crop(rgb, [20, 31])
    yield "center_crop_40x60", F.center_crop(rgb, [40, 60])
    yield "hflip", F.hflip(rgb)
    yield "normalize", F.normalize(rgb, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    yield "brightness", F.adjust_brightness(rgb, 1.3)
    yield "contrast", F.adjust_contrast(rgb, 0.6)
    yield "contrast_grey", F.adjust_contrast(grey, 1.5)
    yield "saturation", F.adjust_saturation(rgb, 1.7)
    yield "hue_pos", F.adjust_hue(rgb, 0.13)
    yield "hue_neg", F.adjust_hue(rgb, -0.37)
    yield "grayscale", F.rgb_to_grayscale(rgb, 3)
    yield "blur_3", F.gaussian_blur(rgb, [3, 3], [0.7, 0.7])
    yield "blur_5", F.gaussian_blur(rgb, [5, 5], [1.9, 1.9])


def main():
    out = Path(sys.argv[1])
    rgb, grey = load(out / "rgb.f32", 3), load(out / "grey.f32", 1)
    lines = []
    for name, t in cases(rgb, grey):
        t.contiguous().numpy().astype("<f4").tofile(out / f"{name}.f32")
        lines.append(name + " " + " ".join(str(d) for d in t.shape))
    (out / "cases.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
