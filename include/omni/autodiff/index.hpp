#pragma once
// Taped indexing and joins: index_select / embedding / gather scatter their gradient back;
// concat hands each part its slice; split and chunk are taped slices.
#include "omni/autodiff/tensor.hpp"
#include "omni/backend/index.hpp"
#include "omni/backend/join.hpp"

namespace omni {

template <class P> Var<P> index_select(const Var<P>& x, std::int64_t axis, const Var<P>& idx) {
    return ad::record<P>("index_select", index_select(x.value(), axis, idx.value()), {&x},
                         [in = x.shape(), axis, iv = idx.value()](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{index_add(in, axis, iv, g)};
    });
}

template <class P> Var<P> embedding(const Var<P>& weight, const Var<P>& ids) {
    return ad::record<P>("embedding", embedding(weight.value(), ids.value()), {&weight},
                         [in = weight.shape(), iv = ids.value()](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{index_add(in, 0, iv.reshape(Shape{iv.numel()}), g.reshape(Shape{iv.numel(), in[1]}))};
    });
}

template <class P> Var<P> gather(const Var<P>& x, std::int64_t axis, const Var<P>& idx) {
    return ad::record<P>("gather", gather(x.value(), axis, idx.value()), {&x},
                         [in = x.shape(), axis, iv = idx.value()](const Tensor<P>& g) {
        return std::vector<Tensor<P>>{scatter_add(in, axis, iv, g)};
    });
}

template <class P> Var<P> concat(const std::vector<Var<P>>& parts, std::int64_t axis) {
    std::vector<Tensor<P>> values;
    for (const auto& p : parts) values.push_back(p.value());
    Tensor<P> out = concat(values, axis);
    if (anomaly_enabled()) [[unlikely]]
        ad::check_forward("concat", out, parts);  // the one taped op that records its node itself
    if (!grad_enabled()) return Var<P>(out);
    auto node = std::make_shared<ad::Node<P>>();
    std::vector<std::int64_t> sizes;
    const int a = normalize_axis("concat", axis, out.dim());
    for (const auto& p : parts) {
        node->inputs.push_back(p.node());
        sizes.push_back(p.shape()[a]);
    }
    bool any = false;
    for (const auto& p : parts) any = any || p.requires_grad();
    if (!any) return Var<P>(out);
    node->op = "concat";
    node->shape = out.shape();
    node->type = out.type();
    node->backward = [sizes, a](const Tensor<P>& g) { return split(g, sizes, a); };
    return Var<P>(out, node);
}

template <class P> std::vector<Var<P>> split(const Var<P>& x, const std::vector<std::int64_t>& sizes, std::int64_t axis) {
    const auto views = split(x.value(), sizes, axis);  // validates
    const int a = normalize_axis("split", axis, x.dim());
    std::vector<Var<P>> out;
    std::int64_t at = 0;
    for (auto s : sizes) {
        out.push_back(x.slice(a, at, at + s));
        at += s;
    }
    return out;
}

}  // namespace omni
