// The rotary op on every device policy against the CPU: forward and backward, both pairings,
// partial rotation, tables shared through `inner`, float32 and float64, strided input.
#include "omni/backend/rotary.hpp"
#include "policy_fixture.hpp"

template <class P> class RotaryPolicyTest : public PolicyTest<P> {};
TYPED_TEST_SUITE(RotaryPolicyTest, Policies);

TYPED_TEST(RotaryPolicyTest, ForwardAndBackwardMatchTheCpu) {
    struct Case {
        Shape x;
        std::int64_t rows, rot, inner;
    };
    // [B, N, C] with per-token tables; [B, H, N, hd] with per-position tables; a pass-through tail
    // and tables shared by runs of `inner` rows.
    const std::vector<Case> cases{{{2, 7, 12}, 14, 12, 1}, {{2, 3, 5, 16}, 5, 16, 1}, {{3, 4, 10}, 2, 6, 2}, {{1, 9, 70}, 9, 34, 1}};
    for (dtype t : {dtype::f32, dtype::f64})
        for (auto pairing : {omni::rotary_pairing::interleaved, omni::rotary_pairing::half})
            for (const Case& c : cases) {
                const std::string what = std::string(omni::name_of(t)) + " " + omni::name_of(pairing) + " " + c.x.str();
                const Cpu x = this->randn(c.x, t), g = this->randn(c.x, t);
                const Cpu cs = this->randn({c.rows, c.rot}, t), sn = this->randn({c.rows, c.rot}, t);
                const auto cs_p = this->dev(cs), sn_p = this->dev(sn);
                expect_close(omni::rotary(this->dev(x), cs_p, sn_p, pairing, c.inner), omni::rotary(x, cs, sn, pairing, c.inner),
                             "forward " + what);
                expect_close(omni::rotary_backward(this->dev(g), cs_p, sn_p, pairing, c.inner),
                             omni::rotary_backward(g, cs, sn, pairing, c.inner), "backward " + what);
            }
}

TYPED_TEST(RotaryPolicyTest, StridedInputAndTablesBuiltOnThePolicy) {
    const Cpu x = this->randn({2, 6, 3, 8});  // [B, N, H, hd]
    auto [c, s] = omni::rotary_tables<TypeParam>(6, 8, dtype::f32, []<class T>(std::int64_t r, T* cr, T* sr) {
        for (int k = 0; k < 8; ++k) {
            cr[k] = static_cast<T>(std::cos(0.3 * r * (k + 1)));
            sr[k] = static_cast<T>(std::sin(0.3 * r * (k + 1)));
        }
    });
    auto [cc, sc] = omni::rotary_tables<omni::cpu>(6, 8, dtype::f32, []<class T>(std::int64_t r, T* cr, T* sr) {
        for (int k = 0; k < 8; ++k) {
            cr[k] = static_cast<T>(std::cos(0.3 * r * (k + 1)));
            sr[k] = static_cast<T>(std::sin(0.3 * r * (k + 1)));
        }
    });
    expect_close(c, cc, "cos table", 0.0);
    const auto xp = this->dev(x).transpose(1, 2);  // [B, H, N, hd] view
    expect_close(omni::rotary(xp, c, s, omni::rotary_pairing::half), omni::rotary(x.transpose(1, 2).contiguous(), cc, sc, omni::rotary_pairing::half),
                 "strided half");
}
