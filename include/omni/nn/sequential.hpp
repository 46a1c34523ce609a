#pragma once
// Composition vocabulary. Sequential<A, B, C> runs its layers in order (members named "0", "1",
// ... as torch.nn.Sequential); Residual<F> computes x + F(x); Stack<Block> holds N blocks of one
// type built from one config (named "0".."N-1", like a torch.nn.ModuleList). All flat: a tuple
// walked with folds, never nested templates, so errors and build times stay short.
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "omni/autodiff/elementwise.hpp"
#include "omni/nn/module.hpp"

namespace omni::nn {

// A layer of policy P: a module with forward(Tensor<P>) -> Tensor<P>.
template <class L, class P>
concept layer_of = module<L> && requires(L& l, const Tensor<P>& x) {
    { l.forward(x) } -> std::convertible_to<Tensor<P>>;
};

// A layer that can add a same-shaped skip input inside its last GEMM: forward(x, residual) with
// the output width out_features() (Linear, MLP). The explicit out_features() marker keeps layers
// whose second argument means something else (attention's padding mask) out.
template <class L, class P>
concept fuses_residual = layer_of<L, P> && requires(const L& l, const Tensor<P>& x) {
    { l.out_features() } -> std::convertible_to<std::int64_t>;
    { l.forward(x, x) } -> std::convertible_to<Tensor<P>>;
};

namespace detail {
// The policy of a layer: its `policy` member if it has one (containers), else the parameter of
// a one-parameter template Layer<P>.
template <class L> struct policy_of;
template <class L>
    requires requires { typename L::policy; }
struct policy_of<L> {
    using type = typename L::policy;
};
template <template <class> class L, class P>
    requires(!requires { typename L<P>::policy; })
struct policy_of<L<P>> {
    using type = P;
};
}  // namespace detail

/// Layers run in order, named "0", "1", ... (torch.nn.Sequential), held in one flat tuple.
template <class First, class... Rest> struct Sequential : Module {
    using P = typename detail::policy_of<First>::type;
    using policy = P;
    static_assert((layer_of<First, P> && ... && layer_of<Rest, P>),
                  "omni::nn::Sequential: every part must be a module of the same policy with forward(Tensor<P>) -> Tensor<P>");
    std::tuple<First, Rest...> layers;

    Sequential() = default;
    explicit Sequential(First f, Rest... r) : layers(std::move(f), std::move(r)...) {}

    template <std::size_t I> auto& get() { return std::get<I>(layers); }

    template <class V> void visit(V& v) {
        std::apply([&](auto&... l) {
            int i = 0;
            (visit_one(v, i++, l), ...);
        }, layers);
    }
    Tensor<P> forward(const Tensor<P>& x) {
        return std::apply([&](auto&... l) {
            Tensor<P> h = x;
            ((h = l.forward(h)), ...);
            return h;
        }, layers);
    }
    Tensor<P> operator()(const Tensor<P>& x) { return forward(x); }

private:
    template <class V, class L> static void visit_one(V& v, int i, L& l) {
        const std::string name = std::to_string(i);
        v.module(name.c_str(), l);
    }
};

/// The residual x + F(x) around an inner module F.
template <class F> struct Residual : Module {
    using P = typename detail::policy_of<F>::type;
    using policy = P;
    static_assert(layer_of<F, P>, "omni::nn::Residual: the inner part must be a module with forward(Tensor<P>) -> Tensor<P>");
    F inner;

    Residual() = default;
    explicit Residual(F f) : inner(std::move(f)) {}
    template <class V> void visit(V& v) { v.module("inner", inner); }
    Tensor<P> forward(const Tensor<P>& x) {
        if constexpr (fuses_residual<F, P>) {  // x rides in the inner GEMM: no separate add pass
            if (x.dim() >= 1 && x.shape().back() != inner.out_features()) {  // other bad inputs: the inner layer says
                Shape want = x.shape();
                want[x.dim() - 1] = inner.out_features();
                throw shape_error(where("Residual"), "expected the inner part to keep the shape " + x.shape().str() + ", got " + want.str());
            }
            return inner.forward(x, x);
        }
        Tensor<P> y = inner.forward(x);
        if (!(y.shape() == x.shape()))
            throw shape_error(where("Residual"), "expected the inner part to keep the shape " + x.shape().str() + ", got " + y.shape().str());
        return add(x, y);
    }
    Tensor<P> operator()(const Tensor<P>& x) { return forward(x); }
};

/// N blocks of one type, named "0".."N-1" (torch.nn.ModuleList); forward runs them in order.
template <class Block> struct Stack : Module {
    std::vector<Block> blocks;

    Stack() = default;
    // n blocks, each made by make(i).
    template <class Make> Stack(int n, Make&& make) {
        blocks.reserve(n);
        for (int i = 0; i < n; ++i) blocks.push_back(make(i));
    }
    template <class V> void visit(V& v) {
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            const std::string name = std::to_string(i);
            v.module(name.c_str(), blocks[i]);
        }
    }
    std::size_t size() const { return blocks.size(); }
    Block& operator[](std::size_t i) { return blocks[i]; }
    template <class T> T forward(const T& x) {
        T h = x;
        for (auto& b : blocks) h = b.forward(h);
        return h;
    }
    // For blocks whose forward is const (no mutable state such as a dropout stream).
    template <class T> T forward(const T& x) const {
        T h = x;
        for (const auto& b : blocks) h = b.forward(h);
        return h;
    }
    template <class T> T operator()(const T& x) { return forward(x); }
};

}  // namespace omni::nn
