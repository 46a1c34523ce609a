#pragma once
// One entry of the tape: the backward of one op. A node points at the nodes of the inputs it
// differentiates, so the graph is owned by the tensors that can still reach it and freed with
// them. Leaves (tensors created with requires_grad) hold the accumulated gradient.
#include <functional>
#include <memory>
#include <vector>

#include "omni/tensor/tensor.hpp"

namespace omni::ad {

/// One taped op: its name, the nodes of its inputs and its backward; a leaf accumulates its gradient.
template <class P> struct Node {
    using Backward = std::function<std::vector<Tensor<P>>(const Tensor<P>& grad_out)>;

    const char* op = "leaf";
    std::vector<std::shared_ptr<Node>> inputs;  // nullptr where an input needs no gradient
    Backward backward;                          // empty for leaves and after release
    bool released = false;                      // its saved tensors were freed by a backward
    Tensor<P> grad;                             // leaves only: sum over backward calls
    Shape shape;                                // of the op's output, to check incoming grads
    dtype type = dtype::f32;

    bool leaf() const { return !backward && !released; }
};

}  // namespace omni::ad
