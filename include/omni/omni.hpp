#pragma once
// Umbrella for quick starts: the CPU policy, every op, autodiff and gradcheck. Library code
// includes precisely what it uses instead.
#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/ops/linear.hpp"
