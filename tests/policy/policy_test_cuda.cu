// The policy suite over {cpu, cuda}, with the CUDA kernels compiled into this translation unit
// (header-only use of omni/backend/cuda.hpp).
#define OMNI_TEST_CUDA
#include "policy_test.cpp"
