#pragma once
// autodiff<P>: the decorator policy that adds reverse-mode differentiation to any device policy
// (Burn's Autodiff<B>). Tensor<autodiff<P>> holds the value as a Tensor<P> and, when it needs a
// gradient, the tape node that produced it. Module code is written once over a policy and runs
// untaped on P, taped on autodiff<P>.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "omni/autodiff/anomaly.hpp"
#include "omni/autodiff/grad_mode.hpp"
#include "omni/autodiff/node.hpp"
#include "omni/backend/elementwise.hpp"
#include "omni/backend/reduce.hpp"

namespace omni {

/// Policy tag: P with reverse-mode autodiff; a Tensor<autodiff<P>> (Var) records the ops it takes part in.
template <device_policy P> struct autodiff {
    using inner = P;
    static constexpr const char* name = "autodiff";
};

template <class T> inline constexpr bool is_autodiff_v = false;
template <class P> inline constexpr bool is_autodiff_v<autodiff<P>> = true;

/// A taped tensor (Var<P>): a Tensor<P> value, and when it needs a gradient, the node that made it.
template <class P> class Tensor<autodiff<P>> {
public:
    using policy = autodiff<P>;
    using value_type = Tensor<P>;
    using NodePtr = std::shared_ptr<ad::Node<P>>;

    Tensor() = default;
    // Wraps a value. With requires_grad it becomes a leaf whose gradient backward() fills.
    Tensor(Tensor<P> value, bool requires_grad = false) : value_(std::move(value)) {  // NOLINT: implicit by design
        if (requires_grad) set_requires_grad(true);
    }
    Tensor(Tensor<P> value, NodePtr node) : value_(std::move(value)), node_(std::move(node)) {}

    // ---- factories: constants (no gradient) ---------------------------------------------
    static Tensor empty(const Shape& s, dtype t = dtype::f32) { return Tensor<P>::empty(s, t); }
    static Tensor zeros(const Shape& s, dtype t = dtype::f32) { return Tensor<P>::zeros(s, t); }
    static Tensor ones(const Shape& s, dtype t = dtype::f32) { return Tensor<P>::ones(s, t); }
    static Tensor full(const Shape& s, double v, dtype t = dtype::f32) { return Tensor<P>::full(s, v, t); }
    static Tensor scalar(double v, dtype t = dtype::f32) { return Tensor<P>::scalar(v, t); }
    static Tensor arange(std::int64_t n, dtype t = dtype::f32) { return Tensor<P>::arange(n, t); }
    template <class T> static Tensor from_data(std::span<const T> d, const Shape& s) { return Tensor<P>::from_data(d, s); }
    template <class T> static Tensor from_data(const std::vector<T>& d, const Shape& s) { return Tensor<P>::from_data(d, s); }
    template <class T> static Tensor from_data(std::initializer_list<T> d, const Shape& s) { return Tensor<P>::from_data(d, s); }
    static Tensor randn(const Shape& s, Generator& g, dtype t = dtype::f32, double mean = 0, double std = 1) {
        return Tensor<P>::randn(s, g, t, mean, std);
    }
    static Tensor rand(const Shape& s, Generator& g, dtype t = dtype::f32, double lo = 0, double hi = 1) {
        return Tensor<P>::rand(s, g, t, lo, hi);
    }

    // ---- value and metadata --------------------------------------------------------------
    const Tensor<P>& value() const { return value_; }
    const NodePtr& node() const { return node_; }
    bool defined() const { return value_.defined(); }
    const Shape& shape() const { return value_.shape(); }
    int dim() const { return value_.dim(); }
    std::int64_t size(std::int64_t axis) const { return value_.size(axis); }
    std::int64_t numel() const { return value_.numel(); }
    dtype type() const { return value_.type(); }
    bool is_contiguous() const { return value_.is_contiguous(); }
    template <class T> std::vector<T> to_vector() const { return value_.template to_vector<T>(); }
    template <class T> T item() const { return value_.template item<T>(); }

    // ---- gradients -----------------------------------------------------------------------
    bool requires_grad() const { return node_ != nullptr; }
    bool is_leaf() const { return !node_ || node_->leaf(); }
    void set_requires_grad(bool on) {
        if (!on) { node_.reset(); return; }
        if (node_) return;
        if (!is_floating(type()))
            throw dtype_error("requires_grad", std::string("expected a float32 or float64 tensor, got ") + name_of(type()));
        node_ = std::make_shared<ad::Node<P>>();
        node_->shape = shape();
        node_->type = type();
    }
    // The accumulated gradient of a leaf (undefined before any backward reached it).
    Tensor<P> grad() const { return node_ ? node_->grad : Tensor<P>(); }
    void zero_grad() const {
        if (node_) node_->grad = Tensor<P>();
    }
    // Same value, cut from the tape.
    Tensor detach() const { return Tensor(value_); }

    // Accumulates d(this)/d(leaf) into every reachable leaf. Without an argument the tensor must
    // hold one element. The graph's saved tensors are freed unless retain_graph.
    void backward(const Tensor<P>& grad_out = {}, bool retain_graph = false) const;

    // ---- views (taped) -------------------------------------------------------------------
    Tensor view(const Shape& s) const {
        return unary_view("view", value_.view(s), [in = shape()](const Tensor<P>& g) { return g.reshape(in); });
    }
    Tensor reshape(const Shape& s) const {
        return unary_view("reshape", value_.reshape(s), [in = shape()](const Tensor<P>& g) { return g.reshape(in); });
    }
    Tensor flatten() const { return reshape(Shape{numel()}); }
    Tensor permute(const std::vector<int>& order) const {
        Tensor<P> out = value_.permute(order);
        std::vector<int> inv(order.size());
        for (std::size_t i = 0; i < order.size(); ++i) inv[normalize_axis("permute", order[i], dim())] = static_cast<int>(i);
        return unary_view("permute", out, [inv](const Tensor<P>& g) { return g.permute(inv); });
    }
    Tensor transpose(std::int64_t a, std::int64_t b) const {
        return unary_view("transpose", value_.transpose(a, b), [a, b](const Tensor<P>& g) { return g.transpose(a, b); });
    }
    Tensor slice(std::int64_t axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1) const {
        return unary_view("slice", value_.slice(axis, start, stop, step), [=, in = shape(), t = type()](const Tensor<P>& g) {
            Tensor<P> z = Tensor<P>::zeros(in, t);
            z.slice(axis, start, stop, step).copy_from(g);
            return z;
        });
    }
    Tensor select(std::int64_t axis, std::int64_t i) const {
        return unary_view("select", value_.select(axis, i), [=, in = shape(), t = type()](const Tensor<P>& g) {
            Tensor<P> z = Tensor<P>::zeros(in, t);
            z.select(axis, i).copy_from(g);
            return z;
        });
    }
    Tensor unsqueeze(std::int64_t axis) const {
        return unary_view("unsqueeze", value_.unsqueeze(axis), [in = shape()](const Tensor<P>& g) { return g.reshape(in); });
    }
    Tensor squeeze(std::int64_t axis) const {
        return unary_view("squeeze", value_.squeeze(axis), [in = shape()](const Tensor<P>& g) { return g.reshape(in); });
    }
    Tensor expand(const Shape& s) const {
        return unary_view("expand", value_.expand(s), [in = shape()](const Tensor<P>& g) { return sum_to(g, in); });
    }
    Tensor contiguous() const { return is_contiguous() ? *this : clone(); }
    Tensor clone() const {
        return unary_view("clone", value_.clone(), [](const Tensor<P>& g) { return g; });
    }
    Tensor to(dtype t) const {
        if (!is_floating(t)) return Tensor(value_.to(t));  // integer or bool copies carry no gradient
        return unary_view("to", value_.to(t), [src = type()](const Tensor<P>& g) { return g.to(src); });
    }
    // The value in policy Q's memory (Tensor<P>::to<Q>): Q = autodiff<D> gives a Var<D>, a device
    // policy an untaped tensor. Q == autodiff<P> returns *this. A tape is typed by its policy, so
    // no graph crosses the move: moving a tensor that requires grad to autodiff<D> throws unless
    // grad mode is off (then the result is a constant, as under torch.no_grad). Detach it first,
    // or call set_requires_grad on the moved tensor to make it a leaf of its own.
    template <class Q> Tensor<Q> to() const {
        if constexpr (std::is_same_v<Q, autodiff<P>>) {
            return *this;
        } else {
            if constexpr (is_autodiff_v<Q>)
                if (requires_grad() && grad_enabled())
                    throw autodiff_error("to", std::string("expected a constant or grad mode off to move autodiff<") + P::name +
                                                   "> to autodiff<" + Q::inner::name +
                                                   "> (the tape does not cross policies; detach() first), got a tensor that requires grad");
            return value_.template to<Q>();
        }
    }

private:
    template <class F> Tensor unary_view(const char* op, Tensor<P> out, F&& back) const;

    Tensor<P> value_;
    NodePtr node_;
};

template <class P> using Var = Tensor<autodiff<P>>;

namespace ad {

// Records `out` as the result of op on `inputs` with the given backward, or returns it as a
// constant when grad mode is off or no input needs a gradient. back(g) returns one gradient
// per input (undefined where that input needs none). Every taped op passes here, so this is
// where anomaly mode checks forward outputs.
template <class P, class F>
Tensor<autodiff<P>> record(const char* op, Tensor<P> out, std::initializer_list<const Tensor<autodiff<P>>*> inputs, F&& back) {
    if (anomaly_enabled()) [[unlikely]]
        check_forward(op, out, inputs);
    if (!grad_enabled()) return Tensor<autodiff<P>>(std::move(out));
    bool any = false;
    for (auto* in : inputs) any = any || in->requires_grad();
    if (!any) return Tensor<autodiff<P>>(std::move(out));
    auto node = std::make_shared<Node<P>>();
    node->op = op;
    for (auto* in : inputs) node->inputs.push_back(in->node());
    node->backward = std::forward<F>(back);
    node->shape = out.shape();
    node->type = out.type();
    return Tensor<autodiff<P>>(std::move(out), std::move(node));
}

// Reverse topological order of the graph below root (iterative: deep graphs must not overflow).
template <class P> std::vector<Node<P>*> topo_order(Node<P>* root) {
    std::vector<Node<P>*> order;
    std::unordered_set<Node<P>*> seen{root};
    std::vector<std::pair<Node<P>*, std::size_t>> stack{{root, 0}};
    while (!stack.empty()) {
        auto& [n, i] = stack.back();
        if (i < n->inputs.size()) {
            Node<P>* c = n->inputs[i++].get();
            if (c && seen.insert(c).second) stack.push_back({c, 0});
        } else {
            order.push_back(n);
            stack.pop_back();
        }
    }
    std::reverse(order.begin(), order.end());
    return order;
}

template <class P> void accumulate(Tensor<P>& into, const Tensor<P>& g) { into = into.defined() ? add(into, g) : g; }

// A leaf keeps its gradient across calls and optimisers may scale it in place, so it must own
// its buffer: the same gradient can reach two leaves (a + b) or alias a forward tensor.
template <class P> void accumulate_leaf(Tensor<P>& into, Tensor<P> g) {
    if (into.defined()) into = add(into, g);
    else into = (g.is_contiguous() && g.storage().use_count() == 1) ? std::move(g) : g.clone();
}

}  // namespace ad

template <class P>
template <class F>
Tensor<autodiff<P>> Tensor<autodiff<P>>::unary_view(const char* op, Tensor<P> out, F&& back) const {
    return ad::record<P>(op, std::move(out), {this}, [b = std::forward<F>(back)](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{b(g)};
    });
}

template <class P> void Tensor<autodiff<P>>::backward(const Tensor<P>& grad_out, bool retain_graph) const {
    if (!node_) throw autodiff_error("backward", "expected a tensor that requires grad, got a constant");
    Tensor<P> seed = grad_out;
    if (!seed.defined()) {
        if (numel() != 1)
            throw autodiff_error("backward", "expected a one-element output or an explicit gradient, got shape " + shape().str());
        seed = Tensor<P>::ones(shape(), type());
    } else if (!(seed.shape() == shape())) {
        throw shape_error("backward", "expected a gradient of shape " + shape().str() + ", got " + seed.shape().str());
    }
    no_grad guard;  // the backward itself is not taped (no double backward)
    const auto order = ad::topo_order(node_.get());
    std::unordered_map<ad::Node<P>*, Tensor<P>> grads;
    grads[node_.get()] = seed;
    for (ad::Node<P>* n : order) {
        auto it = grads.find(n);
        if (it == grads.end()) continue;
        Tensor<P> g = std::move(it->second);
        grads.erase(it);
        if (n->leaf()) {
            ad::accumulate_leaf(n->grad, std::move(g));
            continue;
        }
        if (n->released)
            throw autodiff_error("backward", std::string("the graph through '") + n->op +
                                                 "' was already freed by a previous backward (pass retain_graph = true)");
        std::vector<Tensor<P>> gs = n->backward(g);
        const bool anomaly = anomaly_enabled();
        for (std::size_t i = 0; i < n->inputs.size() && i < gs.size(); ++i) {
            ad::Node<P>* in = n->inputs[i].get();
            if (!in || !gs[i].defined()) continue;
            if (anomaly) [[unlikely]]
                ad::check_backward(n->op, g, i, gs[i]);
            if (!(gs[i].shape() == in->shape))
                throw autodiff_error(n->op, "backward produced a gradient of shape " + gs[i].shape().str() + " for an input of shape " +
                                                in->shape.str());
            ad::accumulate(grads[in], gs[i]);
        }
        if (!retain_graph) {
            n->backward = nullptr;
            n->released = true;
        }
    }
}

}  // namespace omni
