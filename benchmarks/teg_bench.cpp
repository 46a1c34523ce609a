// OmniVinci's Temporal Embedding Grouping and OmniAlignNet at OmniVinci-like sizes.
// TEG: a 2-minute clip at 30 fps, 64 sampled frames x 256 tokens, 120 s of audio (12,000 STFT
// frames, 3,000 tokens), T_G = 30 s, width C = 3584 (Qwen2.5-7B): the plan alone, then the
// gather (GB/s counts the bytes read and written), then gather + backward on the tape.
// OmniAlignNet: batch 8, 256 visual and 150 audio tokens of width 512, 8 heads, 3 layers,
// forward + backward of module and loss.
#include "omni/autodiff/all.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/loss/omni_align.hpp"
#include "omni/nn/omni_align_net.hpp"
#include "omni/nn/time/teg.hpp"

#include "bench_main.hpp"

namespace {

using D = omni::Tensor<omni::cpu>;
using A = omni::autodiff<omni::cpu>;
using V = omni::Var<omni::cpu>;

omni::nn::TegOptions two_minute_clip() {
    omni::nn::TegOptions o{.segment_seconds = 30, .fps = 30, .frame_count = 3600, .audio_start = 0, .audio_end = 120,
                           .stft_frames = 12000, .visual_tokens = 64 * 256, .audio_tokens = 3000};
    for (int i = 0; i < 64; ++i) o.frame_indices.push_back(static_cast<std::int64_t>(std::nearbyint(i * 3599.0 / 63)));
    return o;
}

void BM_teg_plan(benchmark::State& st) {
    const auto o = two_minute_clip();
    for (auto _ : st) benchmark::DoNotOptimize(omni::nn::teg_plan(o).index.data());
}
BENCHMARK(BM_teg_plan)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_teg_apply(benchmark::State& st) {
    const bool backward = st.range(0) != 0;
    const std::int64_t c = 3584;
    const auto plan = omni::nn::teg_plan(two_minute_clip());
    omni::Generator g(1);
    const V vis(D::randn({plan.visual_tokens, c}, g), true), aud(D::randn({plan.audio_tokens, c}, g), true), sep(D::randn({c}, g), true);
    const D up = D::randn({plan.length(), c}, g);
    for (auto _ : st) {
        if (backward) {
            const V out = omni::nn::teg_apply(plan, vis, aud, sep);
            out.backward(up);
            benchmark::DoNotOptimize(sep.grad().raw_data());
        } else {
            omni::no_grad ng;
            benchmark::DoNotOptimize(omni::nn::teg_apply(plan, vis, aud, sep).value().raw_data());
        }
    }
    // Forward: the concat reads and writes the table, the gather reads and writes the output.
    const double rows = static_cast<double>(plan.visual_tokens + plan.audio_tokens + 1 + plan.length());
    st.counters["GB/s"] = benchmark::Counter((backward ? 2.0 : 1.0) * 2 * rows * c * 4 / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    st.counters["tokens"] = static_cast<double>(plan.length());
}
BENCHMARK(BM_teg_apply)->ArgNames({"backward"})->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_omni_align_net_forward_backward(benchmark::State& st) {
    omni::Generator g(2);
    const omni::nn::OmniAlignNet<A> net({.dim = 512, .heads = 8}, g);
    const omni::loss::OmniAlignLoss<A> loss;
    const V ev(D::randn({8, 256, 512}, g)), ea(D::randn({8, 150, 512}, g));
    for (auto _ : st) {
        const auto o = net(ev, ea);
        const V l = loss(o.visual, o.audio);
        l.backward();
        benchmark::DoNotOptimize(net.query_v.grad().raw_data());
    }
}
BENCHMARK(BM_omni_align_net_forward_backward)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

OMNI_BENCHMARK_MAIN()
