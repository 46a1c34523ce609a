// OmniVinci's audio tower and projectors on every policy against the CPU. They add no kernel of
// their own (conv1d is zero padding, strided slices and one GEMM), so this checks that the
// composition runs on each policy and agrees: conv1d forward and all gradients through the tape,
// a tiny Whisper encoder and the mlp_downsample projector forward (modules built from the same
// seed hold the same weights on every policy: Philox by index).
#include "omni/autodiff/all.hpp"
#include "omni/nn/projectors/mlp_downsample.hpp"
#include "omni/nn/whisper_encoder.hpp"

#include "policy_fixture.hpp"

namespace nn = omni::nn;

template <class P> class WhisperPolicy : public PolicyTest<P> {};
TYPED_TEST_SUITE(WhisperPolicy, Policies);

TYPED_TEST(WhisperPolicy, Conv1dForwardAndGradientsMatchCpu) {
    using VP = omni::Var<TypeParam>;
    using VC = omni::Var<omni::cpu>;
    for (dtype t : {dtype::f32, dtype::f64}) {
        const double tol = t == dtype::f64 ? 1e-11 : 1e-5;
        const Cpu x = this->randn({2, 5, 13}, t), w = this->randn({4, 5, 3}, t), b = this->randn({4}, t);
        const Cpu up = this->randn({2, 4, 7}, t);
        const VP xp(this->dev(x), true), wp(this->dev(w), true), bp(this->dev(b), true);
        const VC xc(x, true), wc(w, true), bc(b, true);
        const VP yp = omni::conv1d(xp, wp, bp, 2, 1);
        const VC yc = omni::conv1d(xc, wc, bc, 2, 1);
        expect_close(yp.value().contiguous(), yc.value().contiguous(), std::string("conv1d y ") + omni::name_of(t), tol);
        yp.backward(this->dev(up));
        yc.backward(up);
        expect_close(xp.grad(), xc.grad(), "conv1d dx", tol);
        expect_close(wp.grad(), wc.grad(), "conv1d dweight", tol);
        expect_close(bp.grad(), bc.grad(), "conv1d dbias", tol);
    }
}

TYPED_TEST(WhisperPolicy, EncoderAndProjectorMatchCpu) {
    constexpr nn::WhisperEncoderConfig cfg{.n_mels = 8, .d_model = 16, .layers = 2, .heads = 4, .ffn_dim = 32, .max_source_positions = 6};
    omni::Generator gp(7), gc(7);
    const nn::WhisperEncoder<TypeParam> ep(cfg, gp);
    const nn::WhisperEncoder<omni::cpu> ec(cfg, gc);
    const Cpu mel = this->randn({2, 8, 12});
    expect_close(ep(this->dev(mel)), ec(mel), "whisper encoder", 1e-4);

    const nn::MLPDownsample<TypeParam> mp({.in = 6, .out = 10}, gp);
    const nn::MLPDownsample<omni::cpu> mc({.in = 6, .out = 10}, gc);
    const Cpu x = this->randn({2, 15, 6});
    expect_close(mp(this->dev(x), 3, 5), mc(x, 3, 5), "mlp_downsample", 1e-4);
}
