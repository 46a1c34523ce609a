#pragma once
// conv1d(x, w, b, stride, padding): x [B, Cin, T], w [Cout, Cin, K], b [Cout] (optional) ->
// [B, Cout, Tout], Tout = (T + 2 padding - K) / stride + 1, zero padding, as
// torch.nn.functional.conv1d (no dilation, no groups).
//
// Built from taped ops rather than a kernel of its own, so it runs and differentiates on every
// policy: zero padding (concat), an im2col matrix [B, Tout, Cin K] assembled from K strided time
// slices, then one GEMM with the weight viewed as [Cout, Cin K] (omni::linear, bias inside the
// GEMM). The backward is the one of those ops: the GEMM's, then each slice's gradient scattered
// back. The result is a [B, Cout, Tout] view of the GEMM's [B, Tout, Cout] output, so a caller
// that wants channels last (a transformer over time) gets a contiguous tensor by transposing back.
#include <string>

#include "omni/ops/linear.hpp"

namespace omni {

template <class P>
Tensor<P> conv1d(const Tensor<P>& x, const Tensor<P>& w, const Tensor<P>& b = {}, std::int64_t stride = 1, std::int64_t padding = 0) {
    const char* op = "conv1d";
    if (w.dim() != 3) throw shape_error(op, "expected weight [Cout, Cin, K], got " + w.shape().str());
    const std::int64_t cout = w.shape()[0], cin = w.shape()[1], k = w.shape()[2];
    if (x.dim() != 3 || x.shape()[1] != cin)
        throw shape_error(op, "expected x [B, " + std::to_string(cin) + ", T] for weight " + w.shape().str() + ", got " + x.shape().str());
    if (x.type() != w.type())
        throw dtype_error(op, std::string("expected x and weight of one dtype, got ") + name_of(x.type()) + " and " + name_of(w.type()));
    if (b.defined() && !(b.shape() == Shape{cout}))
        throw shape_error(op, "expected bias [" + std::to_string(cout) + "], got " + b.shape().str());
    if (stride < 1) throw value_error(op, "expected stride >= 1, got " + std::to_string(stride));
    if (padding < 0) throw value_error(op, "expected padding >= 0, got " + std::to_string(padding));
    const std::int64_t batch = x.shape()[0], t = x.shape()[2], tp = t + 2 * padding;
    if (k < 1 || k > tp)
        throw shape_error(op, "expected a kernel of 1 to " + std::to_string(tp) + " taps (T " + std::to_string(t) + " + 2 x padding " +
                                  std::to_string(padding) + "), got " + std::to_string(k));
    const std::int64_t tout = (tp - k) / stride + 1;

    Tensor<P> xp = x;
    if (padding > 0) {
        const Tensor<P> z = Tensor<P>::zeros(Shape{batch, cin, padding}, x.type());
        xp = concat(std::vector<Tensor<P>>{z, x, z}, 2);
    }
    // im2col, channels last: cols[b, t, c * K + j] = xp[b, c, t * stride + j].
    const Tensor<P> xt = xp.transpose(1, 2);  // [B, Tp, Cin], a view
    std::vector<Tensor<P>> taps;
    taps.reserve(static_cast<std::size_t>(k));
    for (std::int64_t j = 0; j < k; ++j) taps.push_back(xt.slice(1, j, j + stride * (tout - 1) + 1, stride).unsqueeze(3));
    const Tensor<P> cols = (k == 1 ? taps[0].contiguous() : concat(taps, 3)).view(Shape{batch, tout, cin * k});
    return linear(cols, w.reshape(Shape{cout, cin * k}), b).transpose(1, 2);
}

}  // namespace omni
