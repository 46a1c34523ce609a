#pragma once
// The Whisper audio encoder as OmniVinci uses it (OmniVinci, arXiv 2510.15870, sec. 2: the
// AF-Whisper audio tower, Whisper-large-v3 shape), following transformers' Qwen2AudioEncoder:
// log-mel [B, n_mels, 2 P] -> conv1 (k3 s1 p1) + GELU -> conv2 (k3 s2 p1) + GELU -> [B, P, d]
// + sinusoidal positions -> pre-LN transformer layers -> average pool (k2 s2) over time -> LayerNorm
// -> [B, P / 2, d], P = max_source_positions (1500 for 30 s: 750 tokens, one per 40 ms).
// Parameter names are Hugging Face's ("conv1.weight", "layers.3.self_attn.k_proj.weight",
// "layers.3.final_layer_norm.bias", "layer_norm.weight", ...), so released weights load by name.
#include <cmath>
#include <vector>

#include "omni/nn/conv1d.hpp"
#include "omni/nn/layer_norm.hpp"
#include "omni/nn/linear.hpp"
#include "omni/nn/sequential.hpp"

namespace omni::nn {

/// Options of WhisperEncoder: mel bins, width, layers, heads, FFN width and source positions (Whisper-large-v3 by default).
struct WhisperEncoderConfig {
    std::int64_t n_mels = 128, d_model = 1280;
    int layers = 32;
    std::int64_t heads = 20, ffn_dim = 5120;
    std::int64_t max_source_positions = 1500;  // frames after conv2; the input has twice as many
    double eps = 1e-5;                         // every LayerNorm (torch's default)

    constexpr std::int64_t input_frames() const { return 2 * max_source_positions; }
    constexpr std::int64_t output_tokens() const { return max_source_positions / 2; }
    // Trainable parameters (the positional table is a buffer: transformers' num_parameters()
    // counts it too, max_source_positions x d_model more).
    constexpr std::int64_t parameter_count() const {
        const std::int64_t d = d_model, f = ffn_dim;
        const std::int64_t convs = n_mels * d * 3 + d + d * d * 3 + d;
        const std::int64_t layer = 4 * d * d + 3 * d /* attention, k_proj without bias */ + 2 * d * f + f + d /* fc1, fc2 */ + 4 * d /* LNs */;
        return convs + layers * layer + 2 * d;
    }
};

// Whisper-large-v3 / AF-Whisper (OmniVinci's audio tower): 30 s of 128-bin log-mel -> 750 tokens.
inline constexpr WhisperEncoderConfig whisper_large_v3{};
// openai/whisper-tiny's encoder shape (80 mels, d 384, 4 layers, 6 heads): tests and benchmarks.
inline constexpr WhisperEncoderConfig whisper_tiny{.n_mels = 80, .d_model = 384, .layers = 4, .heads = 6, .ffn_dim = 1536};

// Whisper's positional table `sinusoids(length, channels)`: row t = [sin(t w_k) | cos(t w_k)],
// w_k = exp(-k ln(10000) / (channels/2 - 1)), k < channels/2; [length, channels] float32.
// Evaluated in float32 in transformers' order (angle t * w_k rounded to float), with w_k correctly
// rounded. torch's vectorised expf is off by an ulp for some k, which moves angles near t = 1500 by
// up to one float ulp (1.2e-4): released checkpoints store the table, so loading one is exact.
template <class D> Tensor<D> whisper_sinusoids(std::int64_t length, std::int64_t channels) {
    if (length < 1 || channels < 4 || channels % 2 != 0)
        throw value_error("whisper_sinusoids", "expected length >= 1 and an even channel count >= 4, got length " + std::to_string(length) +
                                                   ", channels " + std::to_string(channels));
    const std::int64_t half = channels / 2;
    const double increment = std::log(10000.0) / static_cast<double>(half - 1);
    std::vector<float> inv(static_cast<std::size_t>(half)), table(static_cast<std::size_t>(length * channels));
    for (std::int64_t k = 0; k < half; ++k)
        inv[static_cast<std::size_t>(k)] = static_cast<float>(std::exp(static_cast<double>(static_cast<float>(-increment) * static_cast<float>(k))));
    for (std::int64_t t = 0; t < length; ++t)
        for (std::int64_t k = 0; k < half; ++k) {
            const float a = static_cast<float>(t) * inv[static_cast<std::size_t>(k)];
            table[static_cast<std::size_t>(t * channels + k)] = std::sin(a);
            table[static_cast<std::size_t>(t * channels + half + k)] = std::cos(a);
        }
    return Tensor<D>::from_data(table, Shape{length, channels});
}

/// Whisper self-attention (transformers' WhisperAttention, encoder side): q_proj, k_proj without a
/// bias, v_proj, out_proj; softmax(q k^T / sqrt(head_dim)) v through the fused attention op.
/// x [B, N, d] -> [B, N, d].
template <class P> struct WhisperAttention : Module {
    std::int64_t dim = 0, heads = 1;
    Linear<P> k_proj, v_proj, q_proj, out_proj;

    WhisperAttention() = default;
    WhisperAttention(std::int64_t d, std::int64_t h, Generator& g)
        : dim(d),
          heads(h),
          k_proj({.in = d, .out = d, .bias = false}, g),
          v_proj({.in = d, .out = d}, g),
          q_proj({.in = d, .out = d}, g),
          out_proj({.in = d, .out = d}, g) {}

    template <class V> void visit(V& v) {
        v.module("k_proj", k_proj);
        v.module("v_proj", v_proj);
        v.module("q_proj", q_proj);
        v.module("out_proj", out_proj);
    }
    // residual (optional, [B, N, d]) is added inside out_proj's GEMM.
    Tensor<P> forward(const Tensor<P>& x, const Tensor<P>& residual = {}) const {
        if (x.dim() != 3 || x.shape()[2] != dim)
            throw shape_error(where("WhisperAttention"), "expected [B, N, " + std::to_string(dim) + "], got " + x.shape().str());
        const Tensor<P> o = attention(split(q_proj(x)), split(k_proj(x)), split(v_proj(x)));
        return out_proj(o.transpose(1, 2).view({x.shape()[0], x.shape()[1], dim}), residual);
    }
    Tensor<P> operator()(const Tensor<P>& x, const Tensor<P>& residual = {}) const { return forward(x, residual); }

private:
    Tensor<P> split(const Tensor<P>& t) const { return t.view({t.shape()[0], t.shape()[1], heads, dim / heads}).transpose(1, 2); }
};

/// One pre-LN encoder layer (transformers' WhisperEncoderLayer / Qwen2AudioEncoderLayer):
/// h = x + attn(LN(x)); out = h + fc2(GELU(fc1(LN(h)))). [B, N, d] -> [B, N, d].
template <class P> struct WhisperEncoderLayer : Module {
    WhisperAttention<P> self_attn;
    LayerNorm<P> self_attn_layer_norm;
    Linear<P> fc1, fc2;
    LayerNorm<P> final_layer_norm;

    WhisperEncoderLayer() = default;
    WhisperEncoderLayer(const WhisperEncoderConfig& c, Generator& g)
        : self_attn(c.d_model, c.heads, g),
          self_attn_layer_norm({.dim = c.d_model, .eps = c.eps}),
          fc1({.in = c.d_model, .out = c.ffn_dim}, g),
          fc2({.in = c.ffn_dim, .out = c.d_model}, g),
          final_layer_norm({.dim = c.d_model, .eps = c.eps}) {}

    template <class V> void visit(V& v) {
        v.module("self_attn", self_attn);
        v.module("self_attn_layer_norm", self_attn_layer_norm);
        v.module("fc1", fc1);
        v.module("fc2", fc2);
        v.module("final_layer_norm", final_layer_norm);
    }
    Tensor<P> forward(const Tensor<P>& x) const {
        const Tensor<P> h = self_attn(self_attn_layer_norm(x), x);
        return fc2(gelu(fc1(final_layer_norm(h))), h);
    }
    Tensor<P> operator()(const Tensor<P>& x) const { return forward(x); }
};

/// The Whisper audio encoder (transformers' Qwen2AudioEncoder): log-mel [B, n_mels, 2P] -> [B, P/2, d].
template <class P> struct WhisperEncoder : Module {
    using D = device_of_t<P>;
    WhisperEncoderConfig cfg;
    Conv1d<P> conv1, conv2;
    Tensor<P> embed_positions;  // [max_source_positions, d] buffer, "embed_positions.weight"
    Stack<WhisperEncoderLayer<P>> layers;
    LayerNorm<P> layer_norm;

    WhisperEncoder() = default;
    // Linear and conv weights get PyTorch's default initialisation; load a checkpoint for real use.
    WhisperEncoder(const WhisperEncoderConfig& c, Generator& g) : cfg(c) {
        if (c.n_mels < 1 || c.d_model < 4 || c.d_model % 2 != 0 || c.heads < 1 || c.d_model % c.heads != 0 || c.layers < 0 ||
            c.ffn_dim < 1 || c.max_source_positions < 2)
            throw value_error("WhisperEncoder", "expected n_mels >= 1, an even d_model divisible by heads, layers >= 0, ffn_dim >= 1 and "
                                                "max_source_positions >= 2, got n_mels " + std::to_string(c.n_mels) + ", d_model " +
                                                    std::to_string(c.d_model) + ", heads " + std::to_string(c.heads) + ", layers " +
                                                    std::to_string(c.layers) + ", ffn_dim " + std::to_string(c.ffn_dim) +
                                                    ", max_source_positions " + std::to_string(c.max_source_positions));
        conv1 = Conv1d<P>({.in = c.n_mels, .out = c.d_model, .kernel = 3, .stride = 1, .padding = 1}, g);
        conv2 = Conv1d<P>({.in = c.d_model, .out = c.d_model, .kernel = 3, .stride = 2, .padding = 1}, g);
        embed_positions = make_buffer<P>(whisper_sinusoids<D>(c.max_source_positions, c.d_model));
        layers = Stack<WhisperEncoderLayer<P>>(c.layers, [&](int) { return WhisperEncoderLayer<P>(c, g); });
        layer_norm = LayerNorm<P>({.dim = c.d_model, .eps = c.eps});
    }

    template <class V> void visit(V& v) {
        v.module("conv1", conv1);
        v.module("conv2", conv2);
        v.buffer("embed_positions.weight", embed_positions);
        v.module("layers", layers);
        v.module("layer_norm", layer_norm);
    }

    // mel [B, n_mels, 2 max_source_positions] -> [B, max_source_positions / 2, d_model]. Like
    // Qwen2AudioEncoder, the input length is fixed: pad or chunk audio to 30 s first.
    Tensor<P> forward(const Tensor<P>& mel) const {
        if (mel.dim() != 3 || mel.shape()[1] != cfg.n_mels || mel.shape()[2] != cfg.input_frames())
            throw shape_error(where("WhisperEncoder"), "expected mel [B, " + std::to_string(cfg.n_mels) + ", " +
                                                           std::to_string(cfg.input_frames()) + "], got " + mel.shape().str());
        // conv1d returns [B, C, T] as a view of a channels-last GEMM output: GELU runs on the
        // contiguous [B, T, C] layout the transformer wants.
        const Tensor<P> h1 = gelu(conv1(mel).transpose(1, 2));
        const Tensor<P> h2 = gelu(conv2(h1.transpose(1, 2)).transpose(1, 2));
        Tensor<P> h = add(h2, embed_positions);
        for (const auto& layer : layers.blocks) h = layer(h);
        // AvgPool1d(2, stride 2) over time; an odd last frame is dropped, as torch does.
        const std::int64_t b = h.shape()[0], t = h.shape()[1] / 2;
        if (h.shape()[1] % 2 != 0) h = h.slice(1, 0, 2 * t).contiguous();
        return layer_norm(mean(h.view({b, t, 2, cfg.d_model}), {2}));
    }
    Tensor<P> operator()(const Tensor<P>& mel) const { return forward(mel); }
};

}  // namespace omni::nn
