#pragma once
// Deterministic image transforms on float32 tensors [..., C, H, W] with values in [0, 1]: resize
// (bilinear, antialiased when shrinking), crops, flip, normalize, greyscale, the four colour
// adjustments of ColorJitter and Gaussian blur. Each follows torchvision 0.14's tensor functional
// (torchvision/transforms/functional_tensor.py); tests/data/image_test.cpp compares them with it.
// Leading axes are a batch of planes processed in parallel. The random SimCLR chain built from
// these kernels is image/augment.hpp.
//
// The kernels below work on raw contiguous planes so the augmentation chain can run one image
// at a time in a scratch buffer; the Tensor functions at the end check arguments and wrap them.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "omni/backend/cpu/parallel.hpp"
#include "omni/core/error.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::data {

namespace kernels {

// Per output index along one axis: the first input index, how many taps, and their weights.
struct AxisWeights {
    std::vector<std::int64_t> first, count;
    std::vector<float> w;  // taps entries per output index
    std::int64_t taps = 0;
};

// Bilinear weights from `in` to `out` samples, half-pixel centres. When shrinking with
// antialias the triangle widens to the scale factor (PIL's ImagingResample, PyTorch's
// _upsample_bilinear2d_aa); otherwise it is plain bilinear with edge clamping, which is what
// the same formula gives with support 1.
inline AxisWeights axis_weights(std::int64_t in, std::int64_t out, bool antialias) {
    AxisWeights a;
    const double scale = static_cast<double>(in) / static_cast<double>(out);
    const bool wide = antialias && scale > 1.0;
    const double support = wide ? scale : 1.0, inv = wide ? 1.0 / scale : 1.0;
    a.taps = static_cast<std::int64_t>(std::ceil(support)) * 2 + 1;
    a.first.resize(out);
    a.count.resize(out);
    a.w.assign(static_cast<std::size_t>(out * a.taps), 0.0f);
    std::vector<double> tmp(static_cast<std::size_t>(a.taps));
    for (std::int64_t o = 0; o < out; ++o) {
        const double center = scale * (static_cast<double>(o) + 0.5);
        // Truncation toward zero, as both references cast with (int).
        const std::int64_t lo = std::max<std::int64_t>(static_cast<std::int64_t>(center - support + 0.5), 0);
        const std::int64_t hi = std::min<std::int64_t>(static_cast<std::int64_t>(center + support + 0.5), in);
        const std::int64_t n = std::min(hi - lo, a.taps);
        double total = 0;
        for (std::int64_t k = 0; k < n; ++k) {
            const double x = (static_cast<double>(k + lo) - center + 0.5) * inv;
            tmp[k] = std::max(0.0, 1.0 - std::abs(x));
            total += tmp[k];
        }
        for (std::int64_t k = 0; k < n; ++k) a.w[o * a.taps + k] = static_cast<float>(total > 0 ? tmp[k] / total : 0.0);
        a.first[o] = lo;
        a.count[o] = n;
    }
    return a;
}

// Resizes a region of one plane (rows of `src` are `stride` floats apart) to dst [oh, ow].
// Separable: rows first into `scratch` [sh, ow], then columns.
inline void resize_plane(const float* src, std::int64_t stride, std::int64_t sh, std::int64_t sw, float* dst,
                         std::int64_t oh, std::int64_t ow, const AxisWeights& wx, const AxisWeights& wy,
                         std::vector<float>& scratch) {
    scratch.resize(static_cast<std::size_t>(sh * ow));
    for (std::int64_t y = 0; y < sh; ++y) {
        const float* row = src + y * stride;
        float* out = scratch.data() + y * ow;
        if (sw == ow) {
            std::copy(row, row + sw, out);
            continue;
        }
        for (std::int64_t x = 0; x < ow; ++x) {
            const float* w = wx.w.data() + x * wx.taps;
            const float* p = row + wx.first[x];
            float acc = 0;
            for (std::int64_t k = 0; k < wx.count[x]; ++k) acc += w[k] * p[k];
            out[x] = acc;
        }
    }
    for (std::int64_t y = 0; y < oh; ++y) {
        float* out = dst + y * ow;
        if (sh == oh) {
            std::copy(scratch.data() + y * ow, scratch.data() + (y + 1) * ow, out);
            continue;
        }
        std::fill(out, out + ow, 0.0f);
        const float* w = wy.w.data() + y * wy.taps;
        for (std::int64_t k = 0; k < wy.count[y]; ++k) {
            const float* in = scratch.data() + (wy.first[y] + k) * ow;
            for (std::int64_t x = 0; x < ow; ++x) out[x] += w[k] * in[x];
        }
    }
}

inline void hflip_plane(float* p, std::int64_t h, std::int64_t w) {
    for (std::int64_t y = 0; y < h; ++y) std::reverse(p + y * w, p + (y + 1) * w);
}

// torchvision's luma weights (from TensorFlow), in float like the reference.
inline float luma(float r, float g, float b) { return 0.2989f * r + 0.587f * g + 0.114f * b; }

inline float blend(float a, float b, float ratio) { return std::clamp(ratio * a + (1.0f - ratio) * b, 0.0f, 1.0f); }

// The colour kernels take one image [c, n] (n = h * w); c is 1 or 3.
inline void brightness(float* img, std::int64_t c, std::int64_t n, float f) {
    for (std::int64_t i = 0; i < c * n; ++i) img[i] = blend(img[i], 0.0f, f);
}

inline void contrast(float* img, std::int64_t c, std::int64_t n, float f) {
    double sum = 0;  // the mean of the greyscale image; a 224x224 sum in float would drift
    if (c == 3)
        for (std::int64_t i = 0; i < n; ++i) sum += luma(img[i], img[n + i], img[2 * n + i]);
    else
        for (std::int64_t i = 0; i < n; ++i) sum += img[i];
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    for (std::int64_t i = 0; i < c * n; ++i) img[i] = blend(img[i], mean, f);
}

// Saturation and hue leave a one-channel image alone, as PIL and torchvision do.
inline void saturation(float* img, std::int64_t c, std::int64_t n, float f) {
    if (c != 3) return;
    for (std::int64_t i = 0; i < n; ++i) {
        const float g = luma(img[i], img[n + i], img[2 * n + i]);
        for (int k = 0; k < 3; ++k) img[k * n + i] = blend(img[k * n + i], g, f);
    }
}

// RGB -> HSV, shift hue, back; the arithmetic of torchvision's _rgb2hsv/_hsv2rgb, per pixel.
// It dominates the augmentation chain, so it is written for the vectoriser: selects instead of
// branches, by-value min/max (std::max returns a reference), and floor() replaced by what it
// means on the known ranges (GCC vectorises floor only under -fno-trapping-math). Each
// replacement is exact, so results stay within float rounding of torchvision (parity test).
inline void hue(float* img, std::int64_t c, std::int64_t n, float shift) {
    if (c != 3) return;
    float* __restrict R = img;
    float* __restrict G = img + n;
    float* __restrict B = img + 2 * n;
    const auto hi = [](float x, float y) { return x < y ? y : x; };
    const auto lo = [](float x, float y) { return y < x ? y : x; };
    const auto unit = [&](float x) { return lo(hi(x, 0.0f), 1.0f); };
    for (std::int64_t i = 0; i < n; ++i) {
        const float r = R[i], g = G[i], b = B[i];
        const float maxc = hi(r, hi(g, b)), minc = lo(r, lo(g, b));
        const bool flat = maxc == minc;
        const float cr = maxc - minc;
        const float s = cr / (flat ? 1.0f : maxc);
        const float div = flat ? 1.0f : cr;
        const float rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div;
        float h = maxc == r ? bc - gc : (maxc == g ? 2.0f + rc - bc : 4.0f + gc - rc);  // in [-1, 5]
        h = h / 6.0f + 1.0f;                 // in [5/6, 11/6]
        h = h >= 1.0f ? h - 1.0f : h;        // fmod(h, 1)
        h = h + shift;                       // in (-1/2, 3/2)
        h = h < 0.0f ? h + 1.0f : (h >= 1.0f ? h - 1.0f : h);  // Python's h % 1
        const float v = maxc;
        const float h6 = h * 6.0f, fi = static_cast<float>(static_cast<int>(h6)), f = h6 - fi;  // h6 >= 0
        const float p = unit(v * (1.0f - s));
        const float q = unit(v * (1.0f - s * f));
        const float t = unit(v * (1.0f - s * (1.0f - f)));
        const float sector = fi >= 6.0f ? fi - 6.0f : fi;  // torchvision's i % 6 (h6 may round up to 6)
        // Sector k picks (R, G, B) from (v,t,p) (q,v,p) (p,v,t) (p,q,v) (t,p,v) (v,p,q).
        R[i] = (sector == 0.0f || sector == 5.0f) ? v : sector == 1.0f ? q : (sector == 4.0f ? t : p);
        G[i] = sector == 0.0f ? t : (sector == 1.0f || sector == 2.0f) ? v : (sector == 3.0f ? q : p);
        B[i] = (sector == 0.0f || sector == 1.0f) ? p : sector == 2.0f ? t : (sector == 5.0f ? q : v);
    }
}

// Every channel set to the luma of the RGB input (RandomGrayscale keeps the channel count).
inline void grayscale(float* img, std::int64_t c, std::int64_t n) {
    if (c != 3) return;
    for (std::int64_t i = 0; i < n; ++i) img[i] = img[n + i] = img[2 * n + i] = luma(img[i], img[n + i], img[2 * n + i]);
}

// torchvision's 1-D Gaussian: samples at -(k-1)/2 .. (k-1)/2, normalised to sum 1.
inline std::vector<float> gaussian_kernel(std::int64_t k, double sigma) {
    std::vector<float> w(static_cast<std::size_t>(k));
    const float half = static_cast<float>(k - 1) * 0.5f, s = static_cast<float>(sigma);
    float total = 0;
    for (std::int64_t i = 0; i < k; ++i) {
        const float x = (-half + static_cast<float>(i)) / s;
        w[i] = std::exp(-0.5f * x * x);
        total += w[i];
    }
    for (float& v : w) v /= total;
    return w;
}

// Reflect padding without repeating the edge (PyTorch "reflect"), folded until in range.
inline std::int64_t reflect(std::int64_t i, std::int64_t n) {
    if (n == 1) return 0;
    const std::int64_t period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

// Separable Gaussian blur of one plane [h, w] in place; the 2-D kernel is the outer product.
// Rows go through a reflect-padded copy so the inner loops have no index arithmetic.
inline void blur_plane(float* p, std::int64_t h, std::int64_t w, const std::vector<float>& k, std::vector<float>& scratch) {
    const std::int64_t r = static_cast<std::int64_t>(k.size()) / 2, taps = static_cast<std::int64_t>(k.size());
    scratch.resize(static_cast<std::size_t>(h * w + w + 2 * r));
    float* rows = scratch.data();
    float* pad = rows + h * w;
    for (std::int64_t y = 0; y < h; ++y) {
        const float* in = p + y * w;
        for (std::int64_t x = -r; x < w + r; ++x) pad[x + r] = in[reflect(x, w)];
        float* out = rows + y * w;
        std::fill(out, out + w, 0.0f);
        for (std::int64_t t = 0; t < taps; ++t)
            for (std::int64_t x = 0; x < w; ++x) out[x] += k[t] * pad[x + t];
    }
    for (std::int64_t y = 0; y < h; ++y) {
        float* out = p + y * w;
        std::fill(out, out + w, 0.0f);
        for (std::int64_t t = 0; t < taps; ++t) {
            const float* in = rows + reflect(y + t - r, h) * w;
            for (std::int64_t x = 0; x < w; ++x) out[x] += k[t] * in[x];
        }
    }
}

}  // namespace kernels

namespace detail {

// A float32 image batch as contiguous planes: `lead` images of [c, h, w].
struct Planes {
    Tensor<cpu> t;
    std::int64_t lead = 1, c = 1, h = 0, w = 0;
};

inline Planes as_planes(const Tensor<cpu>& img, const char* op) {
    if (img.dim() < 3)
        throw shape_error(op, "expected an image [..., C, H, W], got shape " + img.shape().str());
    check_dtype(op, dtype::f32, img.type());
    Planes p;
    p.t = img.contiguous();
    p.c = img.size(-3);
    p.h = img.size(-2);
    p.w = img.size(-1);
    const std::int64_t per_image = p.c * p.h * p.w;
    p.lead = per_image > 0 ? img.numel() / per_image : 0;
    return p;
}

inline void require_rgb_or_grey(const Planes& p, const char* op) {
    if (p.c != 1 && p.c != 3) throw shape_error(op, "expected 1 or 3 channels, got " + std::to_string(p.c));
}

inline Shape with_hw(const Shape& s, std::int64_t h, std::int64_t w) {
    Shape o = s;
    o[o.size() - 2] = h;
    o[o.size() - 1] = w;
    return o;
}

// Applies f(float* image, c, n) to every image of a copy of `img`, in parallel.
template <class F> Tensor<cpu> map_images(const Tensor<cpu>& img, const char* op, bool need_rgb_or_grey, F&& f) {
    const Planes p = as_planes(img, op);
    if (need_rgb_or_grey) require_rgb_or_grey(p, op);
    Tensor<cpu> out = p.t.clone();
    float* d = out.data<float>();
    const std::int64_t size = p.c * p.h * p.w;
    backend::cpu::parallel_for(p.lead, size * 8, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) f(d + i * size, p.c, p.h * p.w);
    });
    return out;
}

}  // namespace detail

// Resize to [oh, ow] with bilinear weights; `antialias` (default, as PIL and torchvision
// antialias=True) widens the filter when shrinking so no input pixel is skipped.
inline Tensor<cpu> resize(const Tensor<cpu>& img, std::int64_t oh, std::int64_t ow, bool antialias = true) {
    const detail::Planes p = detail::as_planes(img, "resize");
    if (oh < 1 || ow < 1)
        throw value_error("resize", "expected an output size of at least 1x1, got " + std::to_string(oh) + "x" + std::to_string(ow));
    if (p.h < 1 || p.w < 1) throw shape_error("resize", "expected a non-empty image, got shape " + img.shape().str());
    Tensor<cpu> out = Tensor<cpu>::empty(detail::with_hw(img.shape(), oh, ow));
    const kernels::AxisWeights wx = kernels::axis_weights(p.w, ow, antialias), wy = kernels::axis_weights(p.h, oh, antialias);
    const float* s = p.t.data<float>();
    float* d = out.data<float>();
    const std::int64_t planes = p.lead * p.c;
    backend::cpu::parallel_for(planes, oh * ow * 8, [&](std::int64_t b, std::int64_t e) {
        std::vector<float> scratch;
        for (std::int64_t i = b; i < e; ++i)
            kernels::resize_plane(s + i * p.h * p.w, p.w, p.h, p.w, d + i * oh * ow, oh, ow, wx, wy, scratch);
    });
    return out;
}

// torchvision Resize(size) with an int: the shorter side becomes `size`, the longer one
// int(size * long / short), so the aspect ratio is kept up to truncation.
inline Tensor<cpu> resize_shorter(const Tensor<cpu>& img, std::int64_t size, bool antialias = true) {
    const detail::Planes p = detail::as_planes(img, "resize_shorter");
    if (p.h <= p.w) return resize(img, size, static_cast<std::int64_t>(static_cast<double>(size) * p.w / p.h), antialias);
    return resize(img, static_cast<std::int64_t>(static_cast<double>(size) * p.h / p.w), size, antialias);
}

// Rows [top, top + h) and columns [left, left + w): a view, no copy.
inline Tensor<cpu> crop(const Tensor<cpu>& img, std::int64_t top, std::int64_t left, std::int64_t h, std::int64_t w) {
    const detail::Planes p = detail::as_planes(img, "crop");
    if (top < 0 || left < 0 || h < 1 || w < 1 || top + h > p.h || left + w > p.w)
        throw value_error("crop", "expected a box inside " + std::to_string(p.h) + "x" + std::to_string(p.w) + ", got top " +
                                      std::to_string(top) + " left " + std::to_string(left) + " size " + std::to_string(h) +
                                      "x" + std::to_string(w));
    return img.slice(-2, top, top + h).slice(-1, left, left + w);
}

// The central [h, w] window. Offsets round half to even, as Python's round() in torchvision;
// a window larger than the image is zero-padded around it, as torchvision pads.
inline Tensor<cpu> center_crop(const Tensor<cpu>& img, std::int64_t h, std::int64_t w) {
    const detail::Planes p = detail::as_planes(img, "center_crop");
    if (h < 1 || w < 1) throw value_error("center_crop", "expected a crop of at least 1x1, got " + std::to_string(h) + "x" + std::to_string(w));
    const auto offset = [](std::int64_t n, std::int64_t k) { return static_cast<std::int64_t>(std::nearbyint((n - k) / 2.0)); };
    if (h <= p.h && w <= p.w) return crop(p.t, offset(p.h, h), offset(p.w, w), h, w).contiguous();
    // torchvision pads (k - n) // 2 before and the rest after, then crops the centre of that.
    const std::int64_t ph = std::max(p.h, h), pw = std::max(p.w, w);
    const std::int64_t top = h > p.h ? (h - p.h) / 2 : 0, left = w > p.w ? (w - p.w) / 2 : 0;
    Tensor<cpu> padded = Tensor<cpu>::zeros(detail::with_hw(img.shape(), ph, pw));
    padded.slice(-2, top, top + p.h).slice(-1, left, left + p.w).copy_from(p.t);
    return crop(padded, offset(ph, h), offset(pw, w), h, w).contiguous();
}

inline Tensor<cpu> hflip(const Tensor<cpu>& img) {
    return detail::map_images(img, "hflip", false, [&](float* d, std::int64_t c, std::int64_t n) {
        const std::int64_t w = img.size(-1);
        kernels::hflip_plane(d, c * n / w, w);
    });
}

// (x - mean[c]) / std[c] per channel; mean and std have one entry per channel.
inline Tensor<cpu> normalize(const Tensor<cpu>& img, const std::vector<float>& mean, const std::vector<float>& std) {
    const detail::Planes p = detail::as_planes(img, "normalize");
    if (static_cast<std::int64_t>(mean.size()) != p.c || static_cast<std::int64_t>(std.size()) != p.c)
        throw value_error("normalize", "expected " + std::to_string(p.c) + " means and stds (one per channel), got " +
                                           std::to_string(mean.size()) + " and " + std::to_string(std.size()));
    for (float s : std)
        if (!(s > 0.0f)) throw value_error("normalize", "expected positive stds, got " + std::to_string(s));
    return detail::map_images(img, "normalize", false, [&](float* d, std::int64_t c, std::int64_t n) {
        for (std::int64_t k = 0; k < c; ++k)
            for (std::int64_t i = 0; i < n; ++i) d[k * n + i] = (d[k * n + i] - mean[k]) / std[k];
    });
}

// A one-channel image repeated to `channels` (greyscale Fashion-MNIST for an RGB embedder).
inline Tensor<cpu> repeat_channels(const Tensor<cpu>& img, std::int64_t channels) {
    const detail::Planes p = detail::as_planes(img, "repeat_channels");
    if (p.c != 1) throw shape_error("repeat_channels", "expected 1 channel, got shape " + img.shape().str());
    Shape s = img.shape();
    s[s.size() - 3] = channels;
    return p.t.expand(s).contiguous();
}

// RGB -> luma, keeping the channel count (RandomGrayscale) or with `channels` = 1.
inline Tensor<cpu> rgb_to_grayscale(const Tensor<cpu>& img, std::int64_t channels = 1) {
    if (channels != 1 && channels != 3)
        throw value_error("rgb_to_grayscale", "expected 1 or 3 output channels, got " + std::to_string(channels));
    Tensor<cpu> g = detail::map_images(img, "rgb_to_grayscale", true, kernels::grayscale);
    return channels == 1 ? g.slice(-3, 0, 1).contiguous() : g;
}

// The ColorJitter adjustments with a given factor (torchvision's F.adjust_*).
inline Tensor<cpu> adjust_brightness(const Tensor<cpu>& img, double f) {
    if (f < 0) throw value_error("adjust_brightness", "expected a factor >= 0, got " + std::to_string(f));
    return detail::map_images(img, "adjust_brightness", true, [f](float* d, std::int64_t c, std::int64_t n) { kernels::brightness(d, c, n, static_cast<float>(f)); });
}
inline Tensor<cpu> adjust_contrast(const Tensor<cpu>& img, double f) {
    if (f < 0) throw value_error("adjust_contrast", "expected a factor >= 0, got " + std::to_string(f));
    return detail::map_images(img, "adjust_contrast", true, [f](float* d, std::int64_t c, std::int64_t n) { kernels::contrast(d, c, n, static_cast<float>(f)); });
}
inline Tensor<cpu> adjust_saturation(const Tensor<cpu>& img, double f) {
    if (f < 0) throw value_error("adjust_saturation", "expected a factor >= 0, got " + std::to_string(f));
    return detail::map_images(img, "adjust_saturation", true, [f](float* d, std::int64_t c, std::int64_t n) { kernels::saturation(d, c, n, static_cast<float>(f)); });
}
inline Tensor<cpu> adjust_hue(const Tensor<cpu>& img, double f) {
    if (f < -0.5 || f > 0.5) throw value_error("adjust_hue", "expected a hue shift in [-0.5, 0.5], got " + std::to_string(f));
    return detail::map_images(img, "adjust_hue", true, [f](float* d, std::int64_t c, std::int64_t n) { kernels::hue(d, c, n, static_cast<float>(f)); });
}

// Gaussian blur with an odd square kernel and one sigma (torchvision F.gaussian_blur).
inline Tensor<cpu> gaussian_blur(const Tensor<cpu>& img, std::int64_t kernel, double sigma) {
    if (kernel < 1 || kernel % 2 == 0) throw value_error("gaussian_blur", "expected an odd kernel size, got " + std::to_string(kernel));
    if (!(sigma > 0)) throw value_error("gaussian_blur", "expected sigma > 0, got " + std::to_string(sigma));
    const std::vector<float> k = kernels::gaussian_kernel(kernel, sigma);
    const std::int64_t h = img.dim() >= 2 ? img.size(-2) : 0, w = img.dim() >= 1 ? img.size(-1) : 0;
    return detail::map_images(img, "gaussian_blur", false, [&](float* d, std::int64_t c, std::int64_t) {
        std::vector<float> scratch;
        for (std::int64_t i = 0; i < c; ++i) kernels::blur_plane(d + i * h * w, h, w, k, scratch);
    });
}

}  // namespace omni::data
