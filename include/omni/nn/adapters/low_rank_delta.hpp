#pragma once
// The low-rank update of an adapted Linear, without the Linear: delta(x) = (alpha/r) B A x.
// LoRA (Hu et al. 2021): A [r, in] Kaiming-uniform, trained. SBoRA-FA (Omni-C's fine-tuning,
// the Omni-C release's fine_tune_sbora.py): A is r rows of the identity picked by a random permutation of the inputs,
// stored as an index buffer and never trained, so A x is a gather. B [out, r] starts at zero in
// both, so an adapted model starts equal to the pretrained one. A Linear carries one of these
// when adapted (nn::attach_adapters); LowRankAdapter wraps one around a frozen Linear.
#include <numeric>

#include "omni/nn/init.hpp"
#include "omni/nn/module.hpp"
#include "omni/ops/linear.hpp"

namespace omni::nn {

enum class adapter_kind { lora, sbora_fa };

/// Options of a low-rank adapter: LoRA or SBoRA-FA, rank and alpha.
struct AdapterConfig {
    adapter_kind kind = adapter_kind::sbora_fa;
    std::int64_t rank = 128;
    double alpha = 128;
};

/// The low-rank update (alpha/r) B A x of an adapted Linear (LoRA or SBoRA-FA), without the Linear.
template <class P> struct LowRankDelta : Module {
    using D = device_of_t<P>;
    AdapterConfig cfg;
    Tensor<P> lora_a;  // [r, in], LoRA only
    Tensor<P> lora_b;  // [out, r], zero-initialised
    Tensor<P> index;   // [r] int64, SBoRA-FA only: the standard-basis rows of A

    LowRankDelta() = default;
    LowRankDelta(std::int64_t in, std::int64_t out, const AdapterConfig& c, Generator& g) : cfg(c) {
        if (c.rank < 1 || c.rank > in)
            throw value_error("LowRankAdapter", "expected rank in [1, " + std::to_string(in) + "], got " + std::to_string(c.rank));
        if (!(c.alpha > 0)) throw value_error("LowRankAdapter", "expected alpha > 0, got " + std::to_string(c.alpha));
        lora_b = make_param<P>(Tensor<D>::zeros({out, c.rank}));
        if (c.kind == adapter_kind::lora) {
            lora_a = make_param<P>(init::torch_default<D>({c.rank, in}, in, g));
        } else {
            std::vector<std::int64_t> perm(static_cast<std::size_t>(in));
            std::iota(perm.begin(), perm.end(), 0);
            for (std::int64_t i = in - 1; i > 0; --i) std::swap(perm[i], perm[static_cast<std::int64_t>(g.uniform() * (i + 1))]);
            perm.resize(static_cast<std::size_t>(c.rank));
            index = make_buffer<P>(Tensor<D>::from_data(perm, {c.rank}));
        }
    }
    double scale() const { return cfg.alpha / static_cast<double>(cfg.rank); }

    template <class V> void visit(V& v) {
        if (cfg.kind == adapter_kind::lora) v.param("lora_a", lora_a);
        else v.buffer("sbora_index", index);
        v.param("lora_b", lora_b);
    }

    Tensor<P> forward(const Tensor<P>& x) const {
        const Tensor<P> ax = cfg.kind == adapter_kind::lora ? matmul(x, lora_a, false, true) : index_select(x, -1, index);
        return mul(matmul(ax, lora_b, false, true), scale());
    }
    Tensor<P> operator()(const Tensor<P>& x) const { return forward(x); }

    // W + (alpha/r) B A, as a new weight tensor (W itself is not touched).
    Tensor<D> merged(const Tensor<D>& w) const {
        const Tensor<D> out = w.clone();
        const Tensor<D> b = value_of(lora_b);
        if (cfg.kind == adapter_kind::lora) {
            out.copy_from(add(out, mul(matmul(b, value_of(lora_a)), scale())));
        } else {
            const auto idx = value_of(index).template to_vector<std::int64_t>();
            for (std::size_t j = 0; j < idx.size(); ++j) {
                const Tensor<D> col = out.select(1, idx[j]);
                col.copy_from(add(col, mul(b.select(1, static_cast<std::int64_t>(j)), scale())));
            }
        }
        return out;
    }
};

}  // namespace omni::nn
