#pragma once
// Key/value cache for incremental decoding: per layer, preallocated [B, KVH, max_len, head_dim]
// key and value buffers that each forward writes in place at positions length() .. length() + N - 1
// (transformers' StaticCache layout). The cache holds device tensors: it serves inference, and
// under autodiff the cached keys and values are constants.
#include <vector>

#include "omni/nn/module.hpp"

namespace omni::nn {

/// Options of KVCache: layers, batch, key/value heads, head width, capacity and dtype.
struct KVCacheConfig {
    std::int64_t layers = 0, batch = 1, kv_heads = 0, head_dim = 0, max_len = 0;
    dtype type = dtype::f32;
};

/// Preallocated per-layer key and value buffers for incremental decoding (transformers' StaticCache layout).
template <class D> class KVCache {
public:
    KVCache() = default;
    explicit KVCache(const KVCacheConfig& c) : cfg_(c) {
        if (c.layers < 1 || c.batch < 1 || c.kv_heads < 1 || c.head_dim < 1 || c.max_len < 1)
            throw value_error("KVCache", "expected layers, batch, kv_heads, head_dim and max_len >= 1, got " + std::to_string(c.layers) +
                                             ", " + std::to_string(c.batch) + ", " + std::to_string(c.kv_heads) + ", " +
                                             std::to_string(c.head_dim) + ", " + std::to_string(c.max_len));
        for (std::int64_t l = 0; l < c.layers; ++l) {
            k_.push_back(Tensor<D>::zeros({c.batch, c.kv_heads, c.max_len, c.head_dim}, c.type));
            v_.push_back(Tensor<D>::zeros({c.batch, c.kv_heads, c.max_len, c.head_dim}, c.type));
        }
    }

    const KVCacheConfig& config() const { return cfg_; }
    std::int64_t length() const { return length_; }  // positions filled so far
    std::int64_t max_len() const { return cfg_.max_len; }
    std::int64_t batch() const { return cfg_.batch; }
    void reset() { length_ = 0; }

    // Throws unless n more positions of a batch of b fit; called before a forward touches anything.
    void check_append(std::int64_t b, std::int64_t n, const std::string& who = "KVCache") const {
        if (b != cfg_.batch)
            throw shape_error(who, "expected a batch of " + std::to_string(cfg_.batch) + " for this cache, got " + std::to_string(b));
        if (length_ + n > cfg_.max_len)
            throw value_error(who, "expected at most " + std::to_string(cfg_.max_len) + " cached positions, got " +
                                       std::to_string(length_) + " + " + std::to_string(n));
    }

    // Writes k, v [B, KVH, N, hd] of one layer at length() and returns views of positions
    // 0 .. length() + N - 1. The length moves on only with advance(N), after every layer wrote.
    std::pair<Tensor<D>, Tensor<D>> append(std::int64_t layer, const Tensor<D>& k, const Tensor<D>& v) {
        if (layer < 0 || layer >= cfg_.layers)
            throw index_error("KVCache", "expected a layer in [0, " + std::to_string(cfg_.layers) + "), got " + std::to_string(layer));
        const Shape want{cfg_.batch, cfg_.kv_heads, k.dim() == 4 ? k.shape()[2] : -1, cfg_.head_dim};
        if (!(k.shape() == want) || !(v.shape() == want))
            throw shape_error("KVCache", "expected k and v [" + std::to_string(cfg_.batch) + ", " + std::to_string(cfg_.kv_heads) + ", N, " +
                                             std::to_string(cfg_.head_dim) + "], got " + k.shape().str() + " and " + v.shape().str());
        const std::int64_t n = k.shape()[2];
        check_append(k.shape()[0], n);
        k_[layer].slice(2, length_, length_ + n).copy_from(k);
        v_[layer].slice(2, length_, length_ + n).copy_from(v);
        return {k_[layer].slice(2, 0, length_ + n), v_[layer].slice(2, 0, length_ + n)};
    }
    void advance(std::int64_t n) {
        check_append(cfg_.batch, n);
        length_ += n;
    }

private:
    KVCacheConfig cfg_;
    std::vector<Tensor<D>> k_, v_;
    std::int64_t length_ = 0;
};

}  // namespace omni::nn
