#!/usr/bin/env python3
"""PIL references for the JPEG decoding cases of tests/data/image_test.cpp.

Usage: jpeg_reference.py DIR
Encodes one smooth-plus-noise test picture (37 x 53, so no dimension is a multiple of a 16-pixel
MCU) with PIL in each configuration below, writes DIR/<case>.jpg, decodes it with PIL (libjpeg-turbo)
and writes what PIL gives as DIR/<case>.u8 (raw [H, W, C] bytes), plus DIR/cases.txt: one line per
case, name, height, width, channels and the channel count omni is asked for. Exits 77 when PIL is
missing so the test can skip.
"""
import sys
from pathlib import Path

try:
    import numpy as np
    from PIL import Image
except ImportError as e:
    print(f"jpeg_reference: {e}", file=sys.stderr)
    sys.exit(77)

H, W = 37, 53


def picture():
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    rng = np.random.default_rng(5)
    rgb = np.stack([x * 4.5 + 10, y * 6 + 20, 128 + 60 * np.sin(x / 5 + y / 7)], axis=-1)
    rgb += rng.normal(0, 12, size=rgb.shape)  # edges and texture, so chroma upsampling and the IDCT matter
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def cmyk_to_rgb(cmyk):
    # PIL gives CMYK uninverted; the file stores Adobe's inverted inks. omni (as stb) multiplies
    # each stored ink with stored black, rounding as stb's blinn_8x8.
    inv = 255 - cmyk.astype(np.uint32)
    t = inv[..., :3] * inv[..., 3:4] + 128
    return ((t + (t >> 8)) >> 8).astype(np.uint8)


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    rgb = Image.fromarray(picture(), "RGB")
    grey = rgb.convert("L")
    cases = []

    def save(name, im, asked, **kw):
        path = out / f"{name}.jpg"
        im.save(path, "JPEG", **kw)
        return path

    for name, kw in [("rgb_444_q95", dict(quality=95, subsampling=0)),
                     ("rgb_422_q80", dict(quality=80, subsampling=1)),
                     ("rgb_420_q50", dict(quality=50, subsampling=2)),
                     ("rgb_420_progressive", dict(quality=75, subsampling=2, progressive=True)),
                     ("rgb_444_optimized", dict(quality=85, subsampling=0, optimize=True))]:
        path = save(name, rgb, 0, **kw)
        cases.append((name, np.asarray(Image.open(path).convert("RGB")), 0))
    # A colour file asked for one channel: libjpeg's own luma (PIL's draft mode asks libjpeg for it).
    path = save("rgb_as_grey", rgb, 1, quality=90, subsampling=2)
    im = Image.open(path)
    im.draft("L", im.size)
    cases.append(("rgb_as_grey", np.asarray(im.convert("L"))[..., None], 1))
    path = save("grey", grey, 0, quality=90)
    dec = np.asarray(Image.open(path))
    cases.append(("grey", dec[..., None], 0))
    cases.append(("grey_as_rgba", np.concatenate([np.repeat(dec[..., None], 3, -1), np.full(dec.shape + (1,), 255, np.uint8)], -1), 4))
    cases.append(("grey_as_grey_alpha", np.stack([dec, np.full(dec.shape, 255, np.uint8)], -1), 2))
    (out / "grey_as_rgba.jpg").write_bytes(path.read_bytes())
    (out / "grey_as_grey_alpha.jpg").write_bytes(path.read_bytes())
    path = save("cmyk", rgb.convert("CMYK"), 0, quality=90)
    cases.append(("cmyk", cmyk_to_rgb(np.asarray(Image.open(path))), 0))

    with open(out / "cases.txt", "w") as f:
        for name, arr, asked in cases:
            assert arr.dtype == np.uint8 and arr.ndim == 3, name
            arr.tofile(out / f"{name}.u8")
            h, w, c = arr.shape
            f.write(f"{name} {h} {w} {c} {asked}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
