#pragma once
// The SimCLR image augmentation chain for contrastive pretraining, seeded by omni::Generator:
// RandomResizedCrop -> RandomHorizontalFlip -> ColorJitter (random order) -> RandomGrayscale ->
// GaussianBlur -> Normalize, with torchvision 0.14 semantics for every step (the kernels are in
// image/transforms.hpp). Input images [N, C, H, W], or [N, H, W] read as greyscale (what
// load_idx_images gives), float32 in [0, 1]; output [N, channels, size_h, size_w].
//
// Two presets:
//   omni_c_augment  ref: the Omni-C release (pretraining.py, preset "simclr"): crop scale
//                   (0.2, 1), jitter 0.8/0.8/0.8/0.2 always applied, greyscale p 0.2, blur
//                   kernel 3 with sigma ~ U(0.1, 2) always applied, ImageNet mean/std.
//   simclr_augment  canonical SimCLR (Chen et al. 2020, appendix A): crop scale (0.08, 1), jitter
//                   0.8s/0.8s/0.8s/0.2s with p 0.8, greyscale p 0.2, blur p 0.5 with a kernel
//                   of about 10% of the output side (made odd), sigma ~ U(0.1, 2).
//   simclr_small_augment  SimCLR's recipe for 32 x 32 images (Chen et al. 2020, appendix B.9:
//                   jitter strength 0.5, no blur), for inputs of a few dozen pixels where a blur
//                   of sigma up to 2 wipes out most of the detail; crop scale configurable.
//
// Randomness: image i of a call draws from its own Philox stream (seed, offset0 + i), where
// offset0 is the generator's offset at the call and the call advances it by N. So the same
// seed gives the same views whatever the thread count, and two calls give independent views.
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "omni/core/linkage.hpp"
#include "omni/core/rng.hpp"
#include "omni/data/image/transforms.hpp"

namespace omni::data {

/// Sequential uniform draws from one Philox stream: the k-th call reads element k.
class DrawStream {
public:
    DrawStream(std::uint64_t seed, std::uint64_t offset) : seed_(seed), offset_(offset) {}
    double uniform() { return philox_uniform(seed_, offset_, k_++); }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    // An integer in [lo, hi); ranges here are image sizes, far below the 2^24 steps of uniform().
    std::int64_t integer(std::int64_t lo, std::int64_t hi) {
        return std::min(hi - 1, lo + static_cast<std::int64_t>(uniform() * static_cast<double>(hi - lo)));
    }

private:
    std::uint64_t seed_, offset_, k_ = 0;
};

/// Options of the SimCLR augmentation chain (augment, augment_views): output size, crop, flip, colour jitter, greyscale,
/// blur and normalisation; presets omni_c_augment, simclr_augment and simclr_small_augment.
struct AugmentConfig {
    std::int64_t size_h = 224, size_w = 224;
    std::array<double, 2> crop_scale{0.2, 1.0};  // fraction of the image area
    std::array<double, 2> crop_ratio{3.0 / 4.0, 4.0 / 3.0};  // width / height, sampled in log space
    bool antialias = true;
    double flip_p = 0.5;
    double jitter_p = 1.0;
    double brightness = 0.8, contrast = 0.8, saturation = 0.8, hue = 0.2;  // torchvision ranges
    double grayscale_p = 0.2;
    double blur_p = 1.0;
    std::int64_t blur_kernel = 3;  // odd
    std::array<double, 2> blur_sigma{0.1, 2.0};
    std::int64_t channels = 3;  // output channels: 1 -> 3 repeats grey, 3 -> 1 takes luma, 0 keeps
    bool normalize = true;
    std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // ImageNet, as Omni-C; channel 0 for grey
    std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

inline AugmentConfig omni_c_augment(std::int64_t size = 224) {
    return AugmentConfig{.size_h = size, .size_w = size};
}

// `strength` is SimCLR's s (jitter strength); the blur kernel is int(0.1 * size), made odd.
inline AugmentConfig simclr_augment(std::int64_t size = 224, double strength = 1.0) {
    const std::int64_t k = std::max<std::int64_t>(3, static_cast<std::int64_t>(0.1 * static_cast<double>(size)) | 1);
    return AugmentConfig{.size_h = size, .size_w = size, .crop_scale = {0.08, 1.0}, .jitter_p = 0.8,
                         .brightness = 0.8 * strength, .contrast = 0.8 * strength, .saturation = 0.8 * strength,
                         .hue = 0.2 * strength, .blur_p = 0.5, .blur_kernel = k};
}

inline AugmentConfig simclr_small_augment(std::int64_t size = 32, double crop_min = 0.08) {
    AugmentConfig c = simclr_augment(size, 0.5);
    c.crop_scale = {crop_min, 1.0};
    c.blur_p = 0;
    return c;
}

/// A crop rectangle in pixels: top-left corner, height and width.
struct CropBox {
    std::int64_t top = 0, left = 0, h = 0, w = 0;
};

// torchvision RandomResizedCrop.get_params: ten tries at an area fraction and a log-uniform
// aspect ratio, then a central crop clamped to the ratio range. Rounding is Python's (to even).
OMNI_LIB_INLINE CropBox random_resized_crop_box(std::int64_t H, std::int64_t W, const std::array<double, 2>& scale,
                                       const std::array<double, 2>& ratio, DrawStream& rng)
#if OMNI_LIB_DEFINE
{
    const double area = static_cast<double>(H) * static_cast<double>(W);
    const double lr0 = std::log(ratio[0]), lr1 = std::log(ratio[1]);
    for (int attempt = 0; attempt < 10; ++attempt) {
        const double target = area * rng.uniform(scale[0], scale[1]);
        const double aspect = std::exp(rng.uniform(lr0, lr1));
        const auto w = static_cast<std::int64_t>(std::nearbyint(std::sqrt(target * aspect)));
        const auto h = static_cast<std::int64_t>(std::nearbyint(std::sqrt(target / aspect)));
        if (w > 0 && w <= W && h > 0 && h <= H) {
            const std::int64_t top = rng.integer(0, H - h + 1);
            return {top, rng.integer(0, W - w + 1), h, w};
        }
    }
    const double in_ratio = static_cast<double>(W) / static_cast<double>(H);
    std::int64_t w = W, h = H;
    if (in_ratio < std::min(ratio[0], ratio[1])) h = static_cast<std::int64_t>(std::nearbyint(W / std::min(ratio[0], ratio[1])));
    else if (in_ratio > std::max(ratio[0], ratio[1])) w = static_cast<std::int64_t>(std::nearbyint(H * std::max(ratio[0], ratio[1])));
    return {(H - h) / 2, (W - w) / 2, h, w};
}
#else
;
#endif

/// Everything one view decided; drawn first so the pixel work is a pure function of it.
struct AugmentParams {
    CropBox box;
    bool flip = false, jitter = false, gray = false, blur = false;
    std::array<int, 4> order{0, 1, 2, 3};  // 0 brightness, 1 contrast, 2 saturation, 3 hue
    std::array<float, 4> factor{1, 1, 1, 0};
    double sigma = 1;
};

// The draws of one view, in a fixed sequence (all of them, applied or not, so one decision
// never shifts the stream of the next).
OMNI_LIB_INLINE AugmentParams draw_augment_params(std::int64_t H, std::int64_t W, const AugmentConfig& cfg, DrawStream& rng)
#if OMNI_LIB_DEFINE
{
    AugmentParams p;
    p.box = random_resized_crop_box(H, W, cfg.crop_scale, cfg.crop_ratio, rng);
    p.flip = rng.uniform() < cfg.flip_p;
    p.jitter = rng.uniform() < cfg.jitter_p;
    for (int i = 3; i > 0; --i) std::swap(p.order[i], p.order[rng.integer(0, i + 1)]);  // Fisher-Yates
    const auto around_one = [&](double s) { return static_cast<float>(rng.uniform(std::max(0.0, 1.0 - s), 1.0 + s)); };
    p.factor[0] = around_one(cfg.brightness);
    p.factor[1] = around_one(cfg.contrast);
    p.factor[2] = around_one(cfg.saturation);
    p.factor[3] = static_cast<float>(rng.uniform(-cfg.hue, cfg.hue));
    p.gray = rng.uniform() < cfg.grayscale_p;
    p.blur = rng.uniform() < cfg.blur_p;
    p.sigma = rng.uniform(cfg.blur_sigma[0], cfg.blur_sigma[1]);
    return p;
}
#else
;
#endif

namespace detail {

OMNI_LIB_INLINE void check_augment_config(const AugmentConfig& cfg, std::int64_t in_c)
#if OMNI_LIB_DEFINE
{
    const char* op = "augment";
    if (cfg.size_h < 1 || cfg.size_w < 1)
        throw value_error(op, "expected an output size of at least 1x1, got " + std::to_string(cfg.size_h) + "x" + std::to_string(cfg.size_w));
    if (!(cfg.crop_scale[0] > 0 && cfg.crop_scale[0] <= cfg.crop_scale[1] && cfg.crop_scale[1] <= 1))
        throw value_error(op, "expected 0 < crop_scale[0] <= crop_scale[1] <= 1, got (" + std::to_string(cfg.crop_scale[0]) + ", " + std::to_string(cfg.crop_scale[1]) + ")");
    if (!(cfg.crop_ratio[0] > 0 && cfg.crop_ratio[0] <= cfg.crop_ratio[1]))
        throw value_error(op, "expected 0 < crop_ratio[0] <= crop_ratio[1], got (" + std::to_string(cfg.crop_ratio[0]) + ", " + std::to_string(cfg.crop_ratio[1]) + ")");
    if (cfg.brightness < 0 || cfg.contrast < 0 || cfg.saturation < 0 || cfg.hue < 0 || cfg.hue > 0.5)
        throw value_error(op, "expected jitter strengths >= 0 and hue <= 0.5, got hue " + std::to_string(cfg.hue));
    if (cfg.blur_kernel < 1 || cfg.blur_kernel % 2 == 0)
        throw value_error(op, "expected an odd blur kernel, got " + std::to_string(cfg.blur_kernel));
    if (!(cfg.blur_sigma[0] > 0 && cfg.blur_sigma[0] <= cfg.blur_sigma[1]))
        throw value_error(op, "expected 0 < blur_sigma[0] <= blur_sigma[1], got (" + std::to_string(cfg.blur_sigma[0]) + ", " + std::to_string(cfg.blur_sigma[1]) + ")");
    if (in_c != 1 && in_c != 3) throw shape_error(op, "expected images with 1 or 3 channels, got " + std::to_string(in_c));
    if (cfg.channels != 0 && cfg.channels != 1 && cfg.channels != 3)
        throw value_error(op, "expected 0, 1 or 3 output channels, got " + std::to_string(cfg.channels));
    for (float s : cfg.std)
        if (cfg.normalize && !(s > 0)) throw value_error(op, "expected positive normalisation stds, got " + std::to_string(s));
}
#else
;
#endif

// Scratch buffers one worker reuses across its images.
struct AugmentScratch {
    std::vector<float> resized, planes, blur;
};

// One view of src [c, H, W] into dst [out_c, size_h, size_w].
OMNI_LIB_INLINE void augment_one(const float* src, std::int64_t c, std::int64_t H, std::int64_t W, const AugmentConfig& cfg,
                        const AugmentParams& p, std::int64_t out_c, float* dst, AugmentScratch& s)
#if OMNI_LIB_DEFINE
{
    const std::int64_t oh = cfg.size_h, ow = cfg.size_w, n = oh * ow;
    const kernels::AxisWeights wx = kernels::axis_weights(p.box.w, ow, cfg.antialias);
    const kernels::AxisWeights wy = kernels::axis_weights(p.box.h, oh, cfg.antialias);
    s.resized.resize(static_cast<std::size_t>(std::max(c, out_c) * n));
    float* img = s.resized.data();
    for (std::int64_t k = 0; k < c; ++k)
        kernels::resize_plane(src + (k * H + p.box.top) * W + p.box.left, W, p.box.h, p.box.w, img + k * n, oh, ow, wx, wy, s.planes);
    if (p.flip) kernels::hflip_plane(img, c * oh, ow);
    if (c == 1 && out_c == 3) {
        std::copy(img, img + n, img + n);
        std::copy(img, img + n, img + 2 * n);
    } else if (c == 3 && out_c == 1) {
        kernels::grayscale(img, 3, n);
    }
    if (p.jitter)
        for (int fn : p.order) {
            if (fn == 0) kernels::brightness(img, out_c, n, p.factor[0]);
            else if (fn == 1) kernels::contrast(img, out_c, n, p.factor[1]);
            else if (fn == 2) kernels::saturation(img, out_c, n, p.factor[2]);
            else kernels::hue(img, out_c, n, p.factor[3]);
        }
    if (p.gray) kernels::grayscale(img, out_c, n);
    if (p.blur) {
        const std::vector<float> k = kernels::gaussian_kernel(cfg.blur_kernel, p.sigma);
        for (std::int64_t ch = 0; ch < out_c; ++ch) kernels::blur_plane(img + ch * n, oh, ow, k, s.blur);
    }
    for (std::int64_t ch = 0; ch < out_c; ++ch) {
        const float m = cfg.normalize ? cfg.mean[ch] : 0.0f, sd = cfg.normalize ? cfg.std[ch] : 1.0f;
        for (std::int64_t i = 0; i < n; ++i) dst[ch * n + i] = cfg.normalize ? (img[ch * n + i] - m) / sd : img[ch * n + i];
    }
}
#else
;
#endif

}  // namespace detail

// One random view of every image; see the header comment for shapes and seeding.
OMNI_LIB_INLINE Tensor<cpu> augment(const Tensor<cpu>& images, const AugmentConfig& cfg, Generator& gen)
#if OMNI_LIB_DEFINE
{
    Tensor<cpu> x = images;
    if (x.dim() == 3) x = x.unsqueeze(1);  // [N, H, W] greyscale -> [N, 1, H, W]
    if (x.dim() != 4) throw shape_error("augment", "expected images [N, C, H, W] or [N, H, W], got shape " + images.shape().str());
    check_dtype("augment", dtype::f32, x.type());
    const std::int64_t N = x.size(0), c = x.size(1), H = x.size(2), W = x.size(3);
    detail::check_augment_config(cfg, c);
    if (H < 1 || W < 1) throw shape_error("augment", "expected non-empty images, got shape " + images.shape().str());
    const std::int64_t out_c = cfg.channels ? cfg.channels : c;
    x = x.contiguous();
    Tensor<cpu> out = Tensor<cpu>::empty({N, out_c, cfg.size_h, cfg.size_w});
    const std::uint64_t seed = gen.seed(), base = gen.offset();
    gen.set_state(seed, base + static_cast<std::uint64_t>(N));
    const float* src = x.data<float>();
    float* dst = out.data<float>();
    const std::int64_t in_size = c * H * W, out_size = out_c * cfg.size_h * cfg.size_w;
    backend::cpu::parallel_for(N, out_size * 40, [&](std::int64_t b, std::int64_t e) {
        detail::AugmentScratch scratch;
        for (std::int64_t i = b; i < e; ++i) {
            DrawStream rng(seed, base + static_cast<std::uint64_t>(i));
            const AugmentParams p = draw_augment_params(H, W, cfg, rng);
            detail::augment_one(src + i * in_size, c, H, W, cfg, p, out_c, dst + i * out_size, scratch);
        }
    });
    return out;
}
#else
;
#endif

// Two independent views of the batch, the pair a contrastive loss compares.
OMNI_LIB_INLINE std::pair<Tensor<cpu>, Tensor<cpu>> augment_views(const Tensor<cpu>& images, const AugmentConfig& cfg, Generator& gen)
#if OMNI_LIB_DEFINE
{
    Tensor<cpu> a = augment(images, cfg, gen);
    return {a, augment(images, cfg, gen)};
}
#else
;
#endif

// The evaluation view (Omni-C preset "none"): shorter side to size_h, centre crop
// [size_h, size_w], channel conversion and the config's normalisation; nothing random.
OMNI_LIB_INLINE Tensor<cpu> eval_transform(const Tensor<cpu>& images, const AugmentConfig& cfg)
#if OMNI_LIB_DEFINE
{
    Tensor<cpu> x = images.dim() == 3 ? images.unsqueeze(1) : images;
    if (x.dim() != 4) throw shape_error("eval_transform", "expected images [N, C, H, W] or [N, H, W], got shape " + images.shape().str());
    detail::check_augment_config(cfg, x.size(1));
    x = center_crop(resize_shorter(x, cfg.size_h, cfg.antialias), cfg.size_h, cfg.size_w);
    const std::int64_t out_c = cfg.channels ? cfg.channels : x.size(1);
    if (x.size(1) == 1 && out_c == 3) x = repeat_channels(x, 3);
    if (x.size(1) == 3 && out_c == 1) x = rgb_to_grayscale(x, 1);
    if (!cfg.normalize) return x;
    std::vector<float> m(cfg.mean.begin(), cfg.mean.begin() + out_c), s(cfg.std.begin(), cfg.std.begin() + out_c);
    return normalize(x, m, s);
}
#else
;
#endif

}  // namespace omni::data
