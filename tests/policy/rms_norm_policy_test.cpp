// RMSNorm kernels on every policy against the CPU: forward, dx and dweight, float32 and float64,
// rows shorter and longer than a block, and many rows (several partial weight-gradient splits).
#include "omni/backend/rms_norm.hpp"

#include "policy_fixture.hpp"

template <class P> class RmsNormPolicy : public PolicyTest<P> {};
TYPED_TEST_SUITE(RmsNormPolicy, Policies);

TYPED_TEST(RmsNormPolicy, ForwardAndBackwardMatchCpu) {
    struct Case {
        std::int64_t rows, D;
    };
    for (dtype t : {dtype::f32, dtype::f64})
        for (const Case c : {Case{3, 7}, Case{5, 1030}, Case{700, 64}}) {
            const std::string name = "rms_norm [" + std::to_string(c.rows) + ", " + std::to_string(c.D) + "] " + omni::name_of(t);
            const double tol = t == dtype::f64 ? 1e-10 : 1e-4;
            const Cpu x = this->randn({c.rows, c.D}, t), w = this->randn({c.D}, t), g = this->randn({c.rows, c.D}, t);
            const auto fp = omni::rms_norm_forward(this->dev(x), this->dev(w), 1e-6);
            const auto fc = omni::rms_norm_forward(x, w, 1e-6);
            expect_close(fp.y, fc.y, name + " y", tol);
            expect_close(fp.rstd, fc.rstd, name + " rstd", tol);
            const auto [gx, gw] = omni::rms_norm_backward(this->dev(x), this->dev(w), this->dev(fc.rstd), this->dev(g));
            const auto [gx_c, gw_c] = omni::rms_norm_backward(x, w, fc.rstd, g);
            expect_close(gx, gx_c, name + " dx", tol);
            expect_close(gw, gw_c, name + " dweight", tol * 10);
        }
}

TYPED_TEST(RmsNormPolicy, ShapeErrorsNameTheOp) {
    const std::string e = error_of([&] { omni::rms_norm(this->dev(this->randn({2, 4})), this->dev(this->randn({3}))); });
    EXPECT_NE(e.find("rms_norm"), std::string::npos) << e;
    EXPECT_NE(e.find("[4]"), std::string::npos) << e;
}
