// The causal offset of fused attention on every policy against the CPU: forward, lse, dq, dk,
// dv for decode (1 query), chunked prefill (Nq < Nk, crossing the CPU tiles and warps) and a
// negative offset (leading queries see no key).
#include "omni/backend/attention.hpp"

#include "policy_fixture.hpp"

template <class P> class AttentionOffsetPolicy : public PolicyTest<P> {};
TYPED_TEST_SUITE(AttentionOffsetPolicy, Policies);

TYPED_TEST(AttentionOffsetPolicy, ForwardAndBackwardMatchCpu) {
    using T = omni::Tensor<TypeParam>;
    struct Case {
        std::int64_t nq, nk, off;
    };
    for (dtype t : {dtype::f32, dtype::f64})
        for (const Case c : {Case{1, 40, 39}, Case{70, 200, 130}, Case{9, 33, 24}, Case{6, 5, -2}}) {
            const double tol = t == dtype::f64 ? 1e-9 : 1e-4;
            const std::string name = "attention offset " + std::to_string(c.off) + " [" + std::to_string(c.nq) + " x " +
                                     std::to_string(c.nk) + "] " + omni::name_of(t);
            const Cpu q = this->randn({2, 2, c.nq, 8}, t), k = this->randn({2, 2, c.nk, 8}, t), v = this->randn({2, 2, c.nk, 8}, t);
            const Cpu g = this->randn({2, 2, c.nq, 8}, t);
            const auto fp = omni::attention_forward(this->dev(q), this->dev(k), this->dev(v), T(), true, 0.0, c.off);
            const auto fc = omni::attention_forward(q, k, v, Cpu(), true, 0.0, c.off);
            expect_close(fp.out, fc.out.contiguous(), name + " out", tol);
            expect_close(fp.lse, fc.lse, name + " lse", tol);
            const auto [dq, dk, dv] = omni::attention_backward(this->dev(q), this->dev(k), this->dev(v), T(), true, 0.0,
                                                               this->dev(fc.out.contiguous()), this->dev(fc.lse), this->dev(g), T(), T(),
                                                               T(), c.off);
            const auto [dq_c, dk_c, dv_c] = omni::attention_backward(q, k, v, Cpu(), true, 0.0, fc.out, fc.lse, g, Cpu(), Cpu(), Cpu(), c.off);
            expect_close(dq, dq_c.contiguous(), name + " dq", tol);
            expect_close(dk, dk_c.contiguous(), name + " dk", tol);
            expect_close(dv, dv_c.contiguous(), name + " dv", tol);
        }
}
