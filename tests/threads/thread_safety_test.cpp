// Thread safety of the state CPU kernels share across a process, hammered from several std::threads
// at once (issue 28): the OpenMP kernels (an Eigen GEMM, batched small GEMMs and elementwise ops
// through parallel_for, softmax), the FFTW plan cache (fbank, AudioFrontend and WhisperMel, their
// plans first made while other threads execute theirs) and the frozen-weights cache of packed GEMM
// operands (opened, used and closed from every thread). Each thread's results must equal a
// single-threaded reference. Part of the normal suite; scripts/sanitize.sh --tsan builds it under
// ThreadSanitizer, where any data race fails it.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "omni/backend/cpu.hpp"
#include "omni/core/frozen_weights.hpp"
#include "omni/data/audio/frontend.hpp"
#include "omni/data/audio/whisper_mel.hpp"

using T = omni::Tensor<omni::cpu>;
namespace od = omni::data;

namespace {

constexpr int threads = 4;

// f(t) on `threads` std::threads, released together so their calls overlap.
template <class F> void together(F&& f) {
    std::atomic<int> ready{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            ready.fetch_add(1);
            while (ready.load() < threads) std::this_thread::yield();
            f(t);
        });
    for (auto& th : pool) th.join();
}

// omni's thread count for one test: 2, so every parallel_for and Eigen GEMM below forks a team
// inside each std::thread.
struct KernelThreads {
    int prev = omni::num_threads();
    KernelThreads() { omni::set_num_threads(2); }
    ~KernelThreads() { omni::set_num_threads(prev); }
};

std::vector<float> tone(double hz, double rate, std::int64_t n) {
    std::vector<float> x(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(0.5 * std::sin(2 * M_PI * hz * i / rate));
    return x;
}

// Parallel sums and GEMM partitions may round differently from run to run; anything else is a bug.
void expect_close(const std::vector<std::vector<float>>& got, const std::vector<std::vector<float>>& ref) {
    ASSERT_EQ(got.size(), ref.size());
    for (std::size_t r = 0; r < ref.size(); ++r) {
        ASSERT_EQ(got[r].size(), ref[r].size()) << "result " << r;
        for (std::size_t i = 0; i < ref[r].size(); ++i)
            ASSERT_NEAR(got[r][i], ref[r][i], 1e-4f * std::max(1.0f, std::abs(ref[r][i]))) << "result " << r << " at " << i;
    }
}

}  // namespace

TEST(ThreadSafety, CpuKernelsFromManyThreads) {
    KernelThreads two;
    omni::Generator gen(5);
    const T a = T::randn({96, 128}, gen).to(omni::dtype::f32), b = T::randn({128, 80}, gen).to(omni::dtype::f32);
    const T qa = T::randn({16, 24, 32}, gen).to(omni::dtype::f32), qb = T::randn({16, 32, 24}, gen).to(omni::dtype::f32);
    const T big = T::randn({1 << 17}, gen).to(omni::dtype::f32);  // 2^17 elements: two chunks of parallel_for
    const auto run = [&] {
        return std::vector<std::vector<float>>{
            omni::matmul(a, b).to_vector<float>(),          // one GEMM: Eigen's OpenMP threads
            omni::matmul(qa, qb).to_vector<float>(),        // a batch of small GEMMs: one per thread
            omni::matmul(b, a, true, true).to_vector<float>(),
            (omni::exp(big) * 2.0 + big).to_vector<float>(),  // elementwise through parallel_for
            omni::softmax(a).to_vector<float>(),
            omni::sum(big, {0}).to_vector<float>(),
        };
    };
    const auto ref = run();
    std::vector<std::vector<std::vector<float>>> got(threads);
    together([&](int t) {
        for (int i = 0; i < 3; ++i) got[static_cast<std::size_t>(t)] = run();
    });
    for (const auto& g : got) expect_close(g, ref);
}

TEST(ThreadSafety, FftwPlanCacheFromManyThreads) {
    KernelThreads two;
    // Padded window sizes no other test in this process plans (no power-of-two rounding), two
    // threads per size; the plans are made while other threads already execute theirs.
    std::vector<od::FbankOptions> opts(threads);
    for (int t = 0; t < threads; ++t) {
        opts[static_cast<std::size_t>(t)].round_to_power_of_two = false;
        opts[static_cast<std::size_t>(t)].frame_length_ms = t % 2 ? 30 : 35;  // 480 and 560 samples at 16 kHz
    }
    const od::AudioFrontend frontend(od::AudioFrontendOptions::omni_c());
    const auto x = tone(440, 16000, 16000);  // 1 s at 16 kHz: resampled to 32 kHz by the frontend
    const auto whisper_in = tone(1000, 16000, 8000);
    std::vector<std::vector<std::vector<float>>> got(threads);
    together([&](int t) {
        const od::WhisperMel whisper({.n_mels = 80, .pad_or_truncate = false});  // parallel_for inside each std::thread
        for (int i = 0; i < 2; ++i)
            got[static_cast<std::size_t>(t)] = {od::fbank(x, opts[static_cast<std::size_t>(t)]).to_vector<float>(),
                                                frontend.log_mel(x, 16000).to_vector<float>(), whisper(whisper_in).to_vector<float>()};
    });
    const od::WhisperMel whisper({.n_mels = 80, .pad_or_truncate = false});
    for (int t = 0; t < threads; ++t) {
        const std::vector<std::vector<float>> ref = {od::fbank(x, opts[static_cast<std::size_t>(t)]).to_vector<float>(),
                                                     frontend.log_mel(x, 16000).to_vector<float>(), whisper(whisper_in).to_vector<float>()};
        EXPECT_EQ(got[static_cast<std::size_t>(t)], ref) << "thread " << t;
    }
}

#ifdef OMNI_HAVE_AMX_CODE
TEST(ThreadSafety, FrozenWeightsCacheFromManyThreads) {
    // The packed-operand cache itself (amx::detail::cached_b), with a plain packing function so it
    // runs on any CPU: scopes open and close on every thread while the others look weights up,
    // insert them and drop stale entries. Every lookup must return B's own packing.
    namespace amx = omni::backend::cpu::amx::detail;
    omni::Generator gen(7);
    std::vector<T> weights;
    for (int i = 0; i < 6; ++i) weights.push_back(T::randn({24, 40}, gen).to(omni::dtype::f32));
    const auto args = [&](const T& w) {
        omni::GemmArgs g;
        g.m = 8, g.k = 24, g.n = 40;
        g.b = w.raw_data(), g.b_rs = 40, g.b_cs = 1;
        g.b_owner = w.storage();
        return g;
    };
    // The "packing": the first float of B in the first word (a fingerprint of which weight it was).
    const auto pack = [](const float* b) {
        auto buf = std::make_shared<amx::Buffer>(32);
        std::memcpy(buf->p, b, sizeof(float));
        return std::shared_ptr<const amx::Buffer>(std::move(buf));
    };
    std::atomic<int> wrong{0};
    together([&](int t) {
        for (int round = 0; round < 50; ++round) {
            const omni::frozen_weights frozen;
            for (std::size_t i = 0; i < weights.size(); ++i) {
                const T& w = weights[(i + static_cast<std::size_t>(t)) % weights.size()];
                const float* b = w.data<float>();
                const auto tiles = amx::cached_b(args(w), b, [&] { return pack(b); });
                if (std::memcmp(tiles->p, b, sizeof(float)) != 0) wrong.fetch_add(1);
            }
            if (round % 7 == t) {  // a scope of its own, nested
                const omni::frozen_weights inner;
                const auto tiles = amx::cached_b(args(weights[0]), weights[0].data<float>(), [&] { return pack(weights[0].data<float>()); });
                if (std::memcmp(tiles->p, weights[0].data<float>(), sizeof(float)) != 0) wrong.fetch_add(1);
            }
        }
        // Outside every scope: packs afresh and empties the cache.
        const auto tiles = amx::cached_b(args(weights[1]), weights[1].data<float>(), [&] { return pack(weights[1].data<float>()); });
        if (std::memcmp(tiles->p, weights[1].data<float>(), sizeof(float)) != 0) wrong.fetch_add(1);
    });
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_FALSE(omni::frozen_weights::active());
}
#endif

TEST(ThreadSafety, FrozenWeightsScopesAroundMatmulFromManyThreads) {
    // The whole path: bf16 matmul precision inside frozen_weights scopes on every thread (on an
    // AMX CPU the products use the cache; elsewhere they stay fp32 and only the scopes are shared).
    KernelThreads two;
    omni::Generator gen(9);
    const T w = T::randn({64, 64}, gen).to(omni::dtype::f32), x = T::randn({64, 64}, gen).to(omni::dtype::f32);
    const omni::matmul_precision_guard bf16(omni::matmul_precision::bf16);
    const auto ref = omni::matmul(x, w, false, true).to_vector<float>();
    std::vector<std::vector<float>> got(threads);
    together([&](int t) {
        for (int i = 0; i < 4; ++i) {
            const omni::frozen_weights frozen;
            got[static_cast<std::size_t>(t)] = omni::matmul(x, w, false, true).to_vector<float>();
        }
    });
    for (const auto& g : got) expect_close({g}, {ref});
}
