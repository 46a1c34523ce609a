// Adding a modality without editing the library: a six-axis IMU recording (accelerometer and
// gyroscope, 64 samples) becomes a fourth Omni-C modality next to the built-in image one. The
// tag names it and says how to build its embedder; OmniC<P, image, imu> then holds an image
// embedder, an IMU embedder, their two heads and the shared ViT, and nothing for audio or text.
// The example pretrains both modalities with train::pretrain (round robin, NT-Xent), checks that
// the IMU loss falls, and linear-probes the IMU features against the randomly initialised model.
#include <omni/backend/cpu.hpp>
#include <omni/models/omni_c.hpp>
#include <omni/nn/linear.hpp>
#include <omni/train/linear_probe.hpp>
#include <omni/train/pretrain.hpp>

#include <cmath>
#include <iostream>
#include <numbers>

namespace my {

using omni::Tensor;

// [B, 6, 64] -> 8 tokens of 8 samples x 6 channels each, a Linear to the model width, plus
// fixed 1-D sin-cos positions. Its tensors are named imu_embed.* and pos_embed_imu.
template <class P> struct ImuEmbedder : omni::nn::Module {
    static constexpr std::int64_t channels = 6, length = 64, patch = 8;
    omni::nn::Linear<P> proj;
    Tensor<P> pos;  // [length / patch, dim], fixed

    ImuEmbedder() = default;
    ImuEmbedder(std::int64_t dim, omni::Generator& g)
        : proj({.in = channels * patch, .out = dim}, g), pos(omni::nn::make_buffer<P>(omni::nn::sincos_1d<omni::nn::device_of_t<P>>(length / patch, dim))) {}
    template <class V> void visit(V& v) {
        v.module("imu_embed", proj);
        v.buffer("pos_embed_imu", pos);
    }
    Tensor<P> forward(const Tensor<P>& x) const {
        if (x.dim() != 3 || x.shape()[1] != channels || x.shape()[2] != length)
            throw omni::shape_error("ImuEmbedder", "expected [B, 6, 64], got " + x.shape().str());
        const std::int64_t b = x.shape()[0], n = length / patch;
        // [B, C, n, p] -> [B, n, C, p] -> [B, n, C * p]: one token per time window.
        return omni::add(proj(x.view({b, channels, n, patch}).permute({0, 2, 1, 3}).reshape({b, n, channels * patch})), pos);
    }
};

// The tag: a name, the embedder type and its factory (the model's width comes from its config).
struct imu {
    static constexpr std::string_view name = "imu";
    template <class P> using embedder = ImuEmbedder<P>;
    template <class P> static ImuEmbedder<P> make(const omni::models::OmniCConfig& c, omni::Generator& g) { return {c.dim, g}; }
};

}  // namespace my

namespace {

using omni::cpu;
using D = omni::Tensor<cpu>;
using Model = omni::models::OmniC<omni::autodiff<cpu>, omni::models::image, my::imu>;
constexpr std::int64_t kClasses = 4;

// Synthetic IMU clips, label i % 4: 0 still (noise around gravity), 1 walking (2 Hz sway),
// 2 running (5 Hz, larger), 3 jumping (a sharp impulse every 16 samples). Random phase, gain and
// sensor noise per clip.
D imu_clips(std::int64_t n, omni::Generator& g) {
    std::vector<float> v(static_cast<std::size_t>(n * 6 * 64));
    for (std::int64_t i = 0; i < n; ++i) {
        const int cls = static_cast<int>(i % kClasses);
        const double phase = 2 * std::numbers::pi * g.uniform(), gain = 0.8 + 0.4 * g.uniform();
        for (std::int64_t c = 0; c < 6; ++c)
            for (std::int64_t t = 0; t < 64; ++t) {
                const double s = static_cast<double>(t) / 64.0;  // one second at 64 Hz
                double x = c == 2 ? 1.0 : 0.0;                     // gravity on the z accelerometer
                if (cls == 1) x += gain * 0.5 * std::sin(2 * std::numbers::pi * 2 * s + phase + 0.5 * static_cast<double>(c));
                if (cls == 2) x += gain * 1.2 * std::sin(2 * std::numbers::pi * 5 * s + phase + 0.5 * static_cast<double>(c));
                if (cls == 3 && (t + static_cast<std::int64_t>(phase * 2.5)) % 16 == 0) x += gain * (c < 3 ? 2.5 : -1.5);
                v[static_cast<std::size_t>((i * 6 + c) * 64 + t)] = static_cast<float>(x + 0.1 * g.normal());
            }
    }
    return D::from_data(v, {n, 6, 64});
}

// Synthetic 16 x 16 grey images, label i % 4: a bright 8 x 8 square in that quadrant, plus noise.
D images(std::int64_t n, omni::Generator& g) {
    std::vector<float> v(static_cast<std::size_t>(n * 16 * 16));
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t r = 0; r < 16; ++r)
            for (std::int64_t c = 0; c < 16; ++c) {
                const bool in = (r / 8) * 2 + c / 8 == i % kClasses;
                v[static_cast<std::size_t>((i * 16 + r) * 16 + c)] = static_cast<float>((in ? 1.0 : 0.0) + 0.3 * g.normal());
            }
    return D::from_data(v, {n, 1, 16, 16});
}

D take(const D& t, std::span<const std::int64_t> idx) {
    return omni::index_select(t, 0, D::from_data(std::vector<std::int64_t>(idx.begin(), idx.end()), {static_cast<std::int64_t>(idx.size())}));
}

// A view: random gain and additive noise, plus a random circular time shift for IMU clips.
D view(const D& batch, omni::Generator& g, bool shift) {
    std::vector<float> v = batch.to_vector<float>();
    const std::int64_t rows = batch.size(0), per = batch.numel() / rows, len = batch.shape().back();
    for (std::int64_t i = 0; i < rows; ++i) {
        const double gain = 0.8 + 0.4 * g.uniform();
        const std::int64_t s = shift ? static_cast<std::int64_t>(g.uniform() * 16) : 0;
        std::vector<float> row(v.begin() + i * per, v.begin() + (i + 1) * per);
        for (std::int64_t k = 0; k < per; ++k) {
            const std::int64_t src = (k / len) * len + (k % len + s) % len;
            v[static_cast<std::size_t>(i * per + k)] = static_cast<float>(gain * row[static_cast<std::size_t>(src)] + 0.05 * g.normal());
        }
    }
    return D::from_data(v, batch.shape());
}

}  // namespace

int main() try {
    omni::Generator data_gen(7);
    const std::int64_t n_train = 512, n_test = 256;
    const D imu_train = imu_clips(n_train, data_gen), imu_test = imu_clips(n_test, data_gen), img = images(n_train, data_gen);
    std::vector<std::int64_t> y(n_train), yt(n_test);
    for (std::int64_t i = 0; i < n_train; ++i) y[i] = i % kClasses;
    for (std::int64_t i = 0; i < n_test; ++i) yt[i] = i % kClasses;

    auto cfg = omni::models::omni_c_tiny;
    cfg.dim = 64, cfg.depth = 2, cfg.heads = 4, cfg.head_hidden = 64, cfg.head_out = 32;
    cfg.image_size = 16, cfg.image_channels = 1, cfg.image_patch = 4;
    omni::Generator g0(1), g1(1);
    Model random_init(cfg, g0), model(cfg, g1);  // the same initial weights
    std::cout << "custom_modality: OmniC<image, imu>, " << omni::nn::parameter_count(model) << " parameters; the imu head is head_"
              << Model::modality_name(Model::index_of<my::imu>()) << "\n";

    // Pretraining: the data name the model's modalities, built-in or not.
    const std::vector<omni::train::ModalityViews> data{
        {"image", n_train, [&](std::span<const std::int64_t> idx, omni::Generator& g) {
             const D x = take(img, idx);
             return std::pair{view(x, g, false), view(x, g, false)};
         }},
        {"imu", n_train, [&](std::span<const std::int64_t> idx, omni::Generator& g) {
             const D x = take(imu_train, idx);
             return std::pair{view(x, g, true), view(x, g, true)};
         }}};
    const auto r = omni::train::pretrain(model, data, {.batch_size = 32, .steps = 60, .lr = 1e-3, .warmup = 0.1, .temperature = 0.2, .progress = nullptr});
    std::vector<double> imu_loss;
    for (std::size_t s = 0; s < r.losses.size(); ++s)
        if (r.modalities[s] == static_cast<std::int32_t>(Model::index_of<my::imu>())) imu_loss.push_back(r.losses[s]);
    const auto avg = [](const std::vector<double>& v, std::size_t lo, std::size_t hi) {
        double s = 0;
        for (std::size_t i = lo; i < hi; ++i) s += v[i];
        return s / static_cast<double>(hi - lo);
    };
    const double first = avg(imu_loss, 0, 5), last = avg(imu_loss, imu_loss.size() - 5, imu_loss.size());
    std::cout << "imu NT-Xent over " << imu_loss.size() << " of " << r.losses.size() << " steps: first five " << first << ", last five " << last << "\n";

    // Linear probe on frozen CLS features of the IMU clips, before and after pretraining.
    const auto probe = [&](const Model& m) {
        const D f = omni::train::encode(m, "imu", n_train, [&](std::span<const std::int64_t> idx) { return take(imu_train, idx); });
        const D ft = omni::train::encode(m, "imu", n_test, [&](std::span<const std::int64_t> idx) { return take(imu_test, idx); });
        return omni::train::linear_probe(f, D::from_data(y, {n_train}), ft, D::from_data(yt, {n_test}), kClasses,
                                         {.epochs = 20, .warmup_epochs = 2, .batch_size = 64, .lr = 1e-2, .standardize = true})
            .final_top1;
    };
    const double before = probe(random_init), after = probe(model);
    std::cout << "imu linear probe top-1: random init " << before << ", pretrained " << after << " (chance 0.25)\n";
    if (!(last < first)) throw omni::value_error("custom_modality", "expected the imu loss to fall, got " + std::to_string(first) + " -> " + std::to_string(last));
    if (!(after > 0.5)) throw omni::value_error("custom_modality", "expected a probe top-1 above 0.5, got " + std::to_string(after));
    return 0;
} catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
}
