// kernel_policy<P>: satisfied for the policies whose backend is included (cpu through its
// declarations alone, cuda through the declarations g++ sees), not for a policy that moves bytes
// but has no kernels. kernel_policy_missing_include.cpp checks the other half: a translation
// unit without the backend include fails on one static_assert line.
#include <gtest/gtest.h>

#include "omni/backend/cpu/kernels.hpp"
#include "omni/backend/cuda/kernels.hpp"
#include "omni/policy/kernel_families.hpp"

namespace {

// Memory primitives only: a device_policy for which no backend specialises a kernel family.
struct bare_policy {
    static constexpr const char* name = "bare";
    static void* allocate(std::size_t) { return nullptr; }
    static void deallocate(void*, std::size_t) {}
    static void copy_from_host(void*, const void*, std::size_t) {}
    static void copy_to_host(void*, const void*, std::size_t) {}
    static void copy_strided(const omni::Shape&, void*, omni::dtype, const omni::Strides&, const void*, omni::dtype, const omni::Strides&) {}
    static void fill(omni::dtype, void*, const omni::Shape&, const omni::Strides&, double) {}
};

}  // namespace

// One family specialised is not enough: every family must be.
template <> struct omni::matmul_kernels<bare_policy> {
    static void gemm(const GemmArgs&) {}
};

static_assert(omni::kernel_policy<omni::cpu>);
static_assert(omni::kernel_policy<omni::cuda>);
static_assert(omni::device_policy<bare_policy> && !omni::kernel_policy<bare_policy>);

TEST(KernelPolicy, HoldsForEveryBackendAndNotForAPolicyWithoutKernels) {
    EXPECT_TRUE(omni::kernel_policy<omni::cpu>);
    EXPECT_TRUE(omni::kernel_policy<omni::cuda>);
    EXPECT_TRUE(omni::device_policy<bare_policy>);
    EXPECT_FALSE(omni::kernel_policy<bare_policy>);
}
