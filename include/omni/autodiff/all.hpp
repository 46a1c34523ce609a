#pragma once
// Every taped op: include this to train with Tensor<autodiff<P>>.
#include "omni/autodiff/attention.hpp"
#include "omni/autodiff/elementwise.hpp"
#include "omni/autodiff/gradcheck.hpp"
#include "omni/autodiff/index.hpp"
#include "omni/autodiff/matmul.hpp"
#include "omni/autodiff/normalization.hpp"
#include "omni/autodiff/reduce.hpp"
#include "omni/autodiff/rotary.hpp"
#include "omni/autodiff/rms_norm.hpp"

// Last: the CPU op instantiations omni::kernels compiles once (extern in the compiled mode).
#include "omni/autodiff/cpu_instances.hpp"
