#pragma once
// The module model. A module is a plain aggregate: parameters are Tensor<P> members, submodules
// are module members, and one `visit` names them all:
//
//   template <class V> void visit(V& v) { v.param("weight", weight); v.module("fc1", fc1); }
//
// That single function drives parameter lists for optimisers, weight loading by PyTorch name,
// checkpoints, freezing, train/eval switches, parameter counts and the printed tree. Modules are
// templated on the policy P: on a device policy they run inference, on autodiff<P> they train.
#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>

#include "omni/autodiff/device.hpp"       // device_of_t, make_param, make_buffer, value_of
#include "omni/autodiff/module_base.hpp"  // Module

namespace omni::nn {

/// A visitor that ignores everything: what the `module` concept checks visit(V&) with.
struct ProbeVisitor {
    template <class T> void param(const char*, T&) {}
    template <class T> void buffer(const char*, T&) {}
    template <class M> void module(const char*, M&) {}
};
template <class M>
concept module = std::derived_from<M, Module> && requires(M& m, ProbeVisitor& v) { m.visit(v); };

/// Walks a module tree with dotted names. F receives (name, tensor, is_parameter) for every
/// tensor and, through on_module, (name, module) for every module including the root.
template <class F, class G = std::nullptr_t> struct PathVisitor {
    std::string prefix;
    F& on_tensor;
    G on_module = nullptr;

    std::string join(const char* name) const { return prefix.empty() ? std::string(name) : prefix + "." + name; }
    template <class T> void param(const char* name, T& t) { on_tensor(join(name), t, true); }
    template <class T> void buffer(const char* name, T& t) { on_tensor(join(name), t, false); }
    template <class M> void module(const char* name, M& m) {
        static_assert(nn::module<M>, "omni::nn: v.module() needs a type derived from nn::Module with a visit(V&) member");
        PathVisitor sub{join(name), on_tensor, on_module};
        if constexpr (!std::is_same_v<G, std::nullptr_t>) on_module(sub.prefix, m);
        m.visit(sub);
    }
};

// f(name, tensor, is_parameter) over every tensor of m, depth first, in declaration order.
template <module M, class F> void for_each_tensor(M& m, F&& f, const std::string& prefix = "") {
    PathVisitor<F> v{prefix, f};
    m.visit(v);
}

// f(name, tensor) over the parameters only.
template <module M, class F> void for_each_parameter(M& m, F&& f) {
    for_each_tensor(m, [&](const std::string& n, auto& t, bool is_param) {
        if (is_param) f(n, t);
    });
}

// f(path, module) over m and every submodule, each with its concrete type (so f can pick out,
// say, every Linear with if constexpr).
template <module M, class F> void for_each_module(M& m, F&& f, const std::string& prefix = "") {
    auto ignore = [](const std::string&, auto&, bool) {};
    f(prefix, m);
    PathVisitor<decltype(ignore), F&> v{prefix, ignore, f};
    m.visit(v);
}

// Gives every module its dotted path, so errors read "blocks.3.attn: expected ...".
template <module M> void name_modules(M& m, const std::string& root = "") {
    for_each_module(m, [](const std::string& path, auto& mod) { static_cast<Module&>(mod).path = path; }, root);
}

template <module M> void set_training(M& m, bool on) {
    for_each_module(m, [on](const std::string&, auto& mod) { static_cast<Module&>(mod).training = on; });
}

template <module M> std::int64_t parameter_count(M& m) {
    std::int64_t n = 0;
    for_each_parameter(m, [&](const std::string&, const auto& t) { n += t.numel(); });
    return n;
}

// Stops (or restarts) gradients for every parameter of m.
template <module M> void set_requires_grad(M& m, bool on) {
    for_each_parameter(m, [on](const std::string&, auto& t) {
        if constexpr (requires { t.set_requires_grad(on); }) t.set_requires_grad(on);
    });
}

// Converts every tensor of m to dtype t (float64 for gradcheck, say); parameters stay trainable.
template <module M> void cast(M& m, dtype t) {
    for_each_tensor(m, [t](const std::string&, auto& x, bool) {
        if (!x.defined() || !is_floating(x.type())) return;
        if constexpr (requires { x.value(); }) x = std::decay_t<decltype(x)>(x.value().to(t), x.requires_grad());
        else x = x.to(t);
    });
}

}  // namespace omni::nn
