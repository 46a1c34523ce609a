#pragma once
// Embedding table lookup (torch.nn.Embedding; name "weight", init N(0, 1) as PyTorch).
#include "omni/autodiff/index.hpp"
#include "omni/nn/init.hpp"

namespace omni::nn {

/// Options of Embedding: table rows and width.
struct EmbeddingConfig {
    std::int64_t num = 0, dim = 0;
};

/// Embedding table lookup (torch.nn.Embedding): int64 ids [...] -> [..., dim].
template <class P> struct Embedding : Module {
    using D = device_of_t<P>;
    EmbeddingConfig cfg;
    Tensor<P> weight;  // [num, dim]

    Embedding() = default;
    Embedding(const EmbeddingConfig& c, Generator& g) : cfg(c) {
        if (c.num < 1 || c.dim < 1)
            throw value_error("Embedding", "expected num >= 1 and dim >= 1, got " + std::to_string(c.num) + " and " + std::to_string(c.dim));
        weight = make_param<P>(init::normal<D>({c.num, c.dim}, g, 1.0));
    }
    template <class V> void visit(V& v) { v.param("weight", weight); }

    // ids: int32/int64 of any shape -> [*ids, dim]
    Tensor<P> forward(const Tensor<P>& ids) const {
        try {
            return embedding(weight, ids);
        } catch (const index_error&) {
            throw index_error(where("Embedding"), "expected ids in [0, " + std::to_string(cfg.num) + "), got an id outside it");
        }
    }
    Tensor<P> operator()(const Tensor<P>& ids) const { return forward(ids); }
};

}  // namespace omni::nn
