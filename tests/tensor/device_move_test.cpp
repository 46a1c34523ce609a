// Tensor::to<Q>(): moves between policies keep shape, dtype and values; the same policy returns the
// same storage; non-contiguous sources arrive contiguous; Var moves refuse to cut a live tape.
// Without a GPU the cross-policy paths run over `staged`, a policy whose memory the tensor code
// must treat as device memory (only the host copies may touch it), counting each copy; the CUDA
// case is in tests/policy/policy_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "omni/autodiff/tensor.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

using omni::dtype;
using omni::Shape;
using T = omni::Tensor<omni::cpu>;

namespace {

// Host bytes behind a device-policy interface (not flagged host_memory), so to<Q> must stage.
template <int Id> struct staged {
    static constexpr const char* name = Id == 0 ? "staged0" : "staged1";
    static inline int to_host = 0, from_host = 0;
    static void* allocate(std::size_t n) { return std::malloc(n); }
    static void deallocate(void* p, std::size_t) noexcept { std::free(p); }
    static void copy_from_host(void* d, const void* s, std::size_t n) { ++from_host, std::memcpy(d, s, n); }
    static void copy_to_host(void* d, const void* s, std::size_t n) { ++to_host, std::memcpy(d, s, n); }
    static void copy_strided(const Shape& sh, void* d, dtype dt, const omni::Strides& ds, const void* s, dtype st, const omni::Strides& ss) {
        omni::cpu::copy_strided(sh, d, dt, ds, s, st, ss);
    }
    static void fill(dtype dt, void* d, const Shape& sh, const omni::Strides& st, double v) { omni::cpu::fill(dt, d, sh, st, v); }
    static void reset() { to_host = from_host = 0; }
};
using S0 = staged<0>;
using S1 = staged<1>;
static_assert(omni::device_policy<S0>);

// A policy that opts into direct host copies.
struct pinned : S1 {
    static constexpr bool host_memory = true;
};

T iota(const Shape& s, dtype t = dtype::f32) { return T::arange(s.numel(), t).view(s); }

}  // namespace

TEST(DeviceMove, SamePolicyReturnsTheSameStorage) {
    const T x = iota({2, 3});
    const T y = x.to<omni::cpu>();
    EXPECT_EQ(y.storage(), x.storage());
    const T p = x.transpose(0, 1);
    const T q = p.to<omni::cpu>();  // a view stays the same view, as torch's .to returns self
    EXPECT_EQ(q.storage(), x.storage());
    EXPECT_EQ(q.strides(), p.strides());
}

TEST(DeviceMove, DtypeOverloadStillConverts) {
    const T x = T::from_data<float>({1.5f, -2.5f}, {2});
    const T d = x.to(dtype::f64);  // the non-template overload: a converted copy
    EXPECT_EQ(d.type(), dtype::f64);
    EXPECT_NE(d.storage(), x.storage());
    EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{1.5, -2.5}));
}

TEST(DeviceMove, RoundTripKeepsShapeDtypeAndValues) {
    for (dtype t : {dtype::f32, dtype::f64, dtype::i32, dtype::i64, dtype::b8, dtype::bf16}) {
        const T x = omni::Tensor<omni::cpu>::arange(24, dtype::f64).view({2, 3, 4}).to(t);
        S0::reset();
        const auto dev = x.to<S0>();
        EXPECT_EQ(dev.shape(), x.shape());
        EXPECT_EQ(dev.type(), t);
        EXPECT_TRUE(dev.is_contiguous());
        EXPECT_EQ(S0::from_host, 1) << "cpu -> device is one host copy, no staging";
        const T back = dev.to<omni::cpu>();
        EXPECT_EQ(S0::to_host, 1);
        EXPECT_NE(back.storage(), x.storage());
        EXPECT_EQ(back.type(), t);
        EXPECT_EQ(back.shape(), x.shape());
        EXPECT_EQ(back.to(dtype::f64).to_vector<double>(), x.to(dtype::f64).to_vector<double>()) << omni::name_of(t);
    }
}

TEST(DeviceMove, NonContiguousSourcesArriveContiguous) {
    const T x = iota({4, 6});
    const T view = x.transpose(0, 1).slice(0, 1, 6, 2);  // [3, 4], strides (2, 6)
    ASSERT_FALSE(view.is_contiguous());
    const auto dev = view.to<S0>();
    EXPECT_TRUE(dev.is_contiguous());
    EXPECT_EQ(dev.shape(), (Shape{3, 4}));
    EXPECT_EQ(dev.to<omni::cpu>().to_vector<float>(), view.contiguous().to_vector<float>());
    // A device-side view goes back to the host contiguous as well.
    const auto dview = dev.permute({1, 0});
    EXPECT_EQ(dview.to<omni::cpu>().to_vector<float>(), view.permute({1, 0}).contiguous().to_vector<float>());
    // An expanded (zero-stride) source is materialised.
    const T row = T::from_data<float>({1, 2, 3}, {1, 3}).expand({2, 3});
    EXPECT_EQ(row.to<S0>().to<omni::cpu>().to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
}

TEST(DeviceMove, DeviceToDeviceStagesThroughTheHost) {
    const T x = iota({5}, dtype::i64);
    const auto a = x.to<S0>();
    S0::reset();
    S1::reset();
    const auto b = a.to<S1>();
    EXPECT_EQ(S0::to_host, 1);
    EXPECT_EQ(S1::from_host, 1);
    EXPECT_EQ(b.type(), dtype::i64);
    EXPECT_EQ(b.to<omni::cpu>().to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
    // A policy flagged host_memory is copied into directly.
    S0::reset();
    const auto c = a.to<pinned>();
    EXPECT_EQ(S0::to_host, 1);
    EXPECT_EQ(c.to<omni::cpu>().to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
}

TEST(DeviceMove, EmptyAndUndefined) {
    const auto e = T::zeros({0, 3}).to<S0>();
    EXPECT_EQ(e.shape(), (Shape{0, 3}));
    try {
        (void)T().to<S0>();
        FAIL();
    } catch (const omni::value_error& err) {
        EXPECT_STREQ(err.what(), "value_error: to: expected a defined tensor, got an empty handle");
    }
}

TEST(DeviceMove, ToAutodiffPolicyWrapsAConstant) {
    const T x = iota({2, 2});
    const omni::Var<omni::cpu> v = x.to<omni::autodiff<omni::cpu>>();
    EXPECT_FALSE(v.requires_grad());
    EXPECT_EQ(v.value().storage(), x.storage());
    const omni::Var<S0> d = x.to<omni::autodiff<S0>>();
    EXPECT_EQ(d.shape(), x.shape());
    EXPECT_EQ(d.value().to<omni::cpu>().to_vector<float>(), x.to_vector<float>());
}

TEST(DeviceMove, VarMovesRefuseALiveTape) {
    const omni::Var<omni::cpu> w(iota({3}), true);
    EXPECT_EQ(w.to<omni::autodiff<omni::cpu>>().node(), w.node());  // same policy: itself
    try {
        (void)w.to<omni::autodiff<S0>>();
        FAIL();
    } catch (const omni::autodiff_error& e) {
        EXPECT_STREQ(e.what(),
                     "autodiff_error: to: expected a constant or grad mode off to move autodiff<cpu> to autodiff<staged0> (the "
                     "tape does not cross policies; detach() first), got a tensor that requires grad");
    }
    const omni::Var<S0> d = w.detach().to<omni::autodiff<S0>>();
    EXPECT_FALSE(d.requires_grad());
    EXPECT_EQ(d.value().to<omni::cpu>().to_vector<float>(), (std::vector<float>{0, 1, 2}));
    {
        omni::no_grad guard;
        EXPECT_FALSE(w.to<omni::autodiff<S0>>().requires_grad());
    }
    // To an untaped policy the result is the bare value (the type says no gradient flows).
    const omni::Tensor<S0> raw = w.to<S0>();
    EXPECT_EQ(raw.to<omni::cpu>().to_vector<float>(), (std::vector<float>{0, 1, 2}));
    // dtype conversion on a Var is still the taped overload.
    EXPECT_TRUE(w.to(dtype::f64).requires_grad());
}
