#pragma once
// Anomaly mode (torch.autograd.detect_anomaly): while a detect_anomaly guard lives in a thread,
// every taped op checks its forward output and backward() checks every gradient an op returns,
// and the first NaN or infinity throws anomaly_error naming the op, the pass, the input, the
// shape and the count. Off (the default) it costs one thread-local flag test per op; on, each
// result is copied to the host and scanned, so it is for finding a divergence, not for speed.
// Unlike PyTorch (NaN in backward only), infinities and the forward pass count too: a NaN is
// usually an inf one op earlier.
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "omni/core/error.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni {

namespace detail {
inline bool& anomaly_flag() {
    thread_local bool enabled = false;
    return enabled;
}
}  // namespace detail

inline bool anomaly_enabled() { return detail::anomaly_flag(); }

/// RAII: anomaly mode on (or, with false, off) in this thread while alive; nests and restores.
class detect_anomaly {
public:
    explicit detect_anomaly(bool on = true) : prev_(detail::anomaly_flag()) { detail::anomaly_flag() = on; }
    ~detect_anomaly() { detail::anomaly_flag() = prev_; }
    detect_anomaly(const detect_anomaly&) = delete;
    detect_anomaly& operator=(const detect_anomaly&) = delete;

private:
    bool prev_;
};

namespace ad {

/// Counts of NaN, +inf and -inf in a tensor, for anomaly messages.
struct NonFinite {
    std::int64_t nan = 0, pos_inf = 0, neg_inf = 0;
    std::int64_t total() const { return nan + pos_inf + neg_inf; }
    std::string str() const {
        std::string s;
        const auto part = [&](std::int64_t n, const char* what) {
            if (n) s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + what;
        };
        part(nan, "NaN"), part(pos_inf, "+inf"), part(neg_inf, "-inf");
        return s;
    }
};

template <class P> NonFinite count_non_finite(const Tensor<P>& t) {
    NonFinite c;
    if (!t.defined() || !is_floating(t.type())) return c;
    for (const double v : t.template to_vector<double>()) {
        if (std::isnan(v)) ++c.nan;
        else if (std::isinf(v)) ++(v > 0 ? c.pos_inf : c.neg_inf);
    }
    return c;
}

// The forward of `op` made `out`; inputs are the taped operands (pointers or tensors).
template <class P, class Inputs> void check_forward(const char* op, const Tensor<P>& out, const Inputs& inputs) {
    const NonFinite c = count_non_finite(out);
    if (!c.total()) return;
    std::int64_t before = 0;
    for (const auto& in : inputs) {
        if constexpr (std::is_pointer_v<std::decay_t<decltype(in)>>) before += count_non_finite(in->value()).total();
        else before += count_non_finite(in.value()).total();
    }
    throw anomaly_error(op, "forward produced " + c.str() + " (of " + std::to_string(out.numel()) + " values) in its output of shape " +
                                out.shape().str() +
                                (before ? "; its inputs already held " + std::to_string(before) + " non-finite values" : "; its inputs were finite"));
}

// The backward of `op`, given the incoming gradient g, returned grad for input i.
template <class P> void check_backward(const char* op, const Tensor<P>& g, std::size_t i, const Tensor<P>& grad) {
    const NonFinite c = count_non_finite(grad);
    if (!c.total()) return;
    const std::int64_t before = count_non_finite(g).total();
    throw anomaly_error(op, "backward produced " + c.str() + " (of " + std::to_string(grad.numel()) + " values) in the gradient of input " +
                                std::to_string(i) + ", shape " + grad.shape().str() +
                                (before ? "; the incoming gradient already held " + std::to_string(before) + " non-finite values"
                                        : "; the incoming gradient was finite"));
}

}  // namespace ad
}  // namespace omni
