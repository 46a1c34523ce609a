#pragma once
// Low-rank adapters around a frozen Linear. LoRA (Hu et al. 2021): y = W x + b + (alpha/r) B A x
// with A [r, in] Kaiming-uniform and B [out, r] zero. SBoRA-FA (Omni-C's fine-tuning): A is r rows
// of the identity picked by a random permutation of the inputs (stored as an index buffer, never
// trained), so A x is a gather; only B is trained and starts at zero, so the adapted model
// starts equal to the pretrained one. merge() folds the update into W for inference.
#include <numeric>

#include "omni/nn/linear.hpp"

namespace omni::nn {

enum class adapter_kind { lora, sbora_fa };

struct AdapterConfig {
    adapter_kind kind = adapter_kind::sbora_fa;
    std::int64_t rank = 128;
    double alpha = 128;
};

template <class P> struct LowRankAdapter : Module {
    using D = device_of_t<P>;
    AdapterConfig cfg;
    Linear<P> base;    // frozen
    Tensor<P> lora_a;  // [r, in], LoRA only
    Tensor<P> lora_b;  // [out, r], zero-initialised
    Tensor<P> index;   // [r] int64, SBoRA-FA only: the standard-basis rows of A

    LowRankAdapter() = default;
    LowRankAdapter(Linear<P> frozen, const AdapterConfig& c, Generator& g) : cfg(c), base(std::move(frozen)) {
        const std::int64_t in = base.cfg.in, out = base.cfg.out;
        if (c.rank < 1 || c.rank > in)
            throw value_error("LowRankAdapter", "expected rank in [1, " + std::to_string(in) + "], got " + std::to_string(c.rank));
        set_requires_grad(base, false);
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
        v.module("base", base);
        if (cfg.kind == adapter_kind::lora) v.param("lora_a", lora_a);
        else v.buffer("sbora_index", index);
        v.param("lora_b", lora_b);
    }

    Tensor<P> forward(const Tensor<P>& x) const {
        const Tensor<P> ax = cfg.kind == adapter_kind::lora ? matmul(x, lora_a, false, true) : index_select(x, -1, index);
        return add(base(x), mul(matmul(ax, lora_b, false, true), scale()));
    }
    Tensor<P> operator()(const Tensor<P>& x) const { return forward(x); }

    // The plain Linear with the update folded in: W + (alpha/r) B A.
    Linear<P> merge() const {
        Linear<P> out = base;
        const Tensor<D> w = value_of(base.weight).clone();
        const Tensor<D> b = value_of(lora_b);
        if (cfg.kind == adapter_kind::lora) {
            w.copy_from(add(w, mul(matmul(b, value_of(lora_a)), scale())));
        } else {
            const auto idx = value_of(index).template to_vector<std::int64_t>();
            for (std::size_t j = 0; j < idx.size(); ++j) {
                const Tensor<D> col = w.select(1, idx[j]);
                col.copy_from(add(col, mul(b.select(1, static_cast<std::int64_t>(j)), scale())));
            }
        }
        out.weight = make_param<P>(w);
        if (base.bias.defined()) out.bias = make_param<P>(value_of(base.bias).clone());
        return out;
    }
};

}  // namespace omni::nn
