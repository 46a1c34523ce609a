#pragma once
// Every CPU kernel family: include this to run omni::Tensor<omni::cpu> math.
#include "omni/backend/cpu/attention.hpp"
#include "omni/backend/cpu/elementwise.hpp"
#include "omni/backend/cpu/index.hpp"
#include "omni/backend/cpu/layer_norm.hpp"
#include "omni/backend/cpu/matmul.hpp"
#include "omni/backend/cpu/normalize.hpp"
#include "omni/backend/cpu/optim_step.hpp"
#include "omni/backend/cpu/reduce.hpp"
#include "omni/backend/cpu/rotary.hpp"
#include "omni/backend/cpu/rms_norm.hpp"
#include "omni/backend/cpu/softmax.hpp"
#include "omni/backend/join.hpp"
