// Image input pipeline throughput: the Omni-C augmentation chain (image/augment.hpp) per image at
// Fashion-MNIST size, Fashion-MNIST upscaled to ViT input, and ImageNet-sized RGB; and IDX
// loading. Counter "images/s" is per wall-clock second over the whole batch (all threads).
//
// BM_idx_parse reads an uncompressed IDX file already in memory (format parsing and widening);
// BM_idx_load_gz reads Debian's gzip Fashion-MNIST test images from disk, which needs zlib at
// link time and so is compiled only with OMNI_BENCH_WITH_ZLIB (and ZLIB::ZLIB linked).
#include <cstdint>
#include <filesystem>
#include <vector>

#include "omni/data/image/augment.hpp"
#include "omni/data/image/idx.hpp"

#include "bench_main.hpp"

namespace {

using T = omni::Tensor<omni::cpu>;
namespace od = omni::data;

// Args: input side, output side, input channels, batch.
void BM_augment_omni_c(benchmark::State& st) {
    const std::int64_t in = st.range(0), out = st.range(1), c = st.range(2), n = st.range(3);
    omni::Generator data(1), gen(2);
    const T images = c == 1 ? T::rand({n, in, in}, data) : T::rand({n, c, in, in}, data);
    const od::AugmentConfig cfg = od::omni_c_augment(out);
    for (auto _ : st) benchmark::DoNotOptimize(od::augment(images, cfg, gen).raw_data());
    st.counters["images/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_augment_omni_c)
    ->ArgNames({"in", "out", "c", "batch"})
    ->Args({28, 28, 1, 256})    // Fashion-MNIST, 3 channels out
    ->Args({28, 224, 1, 64})    // Fashion-MNIST for a ViT-B/32 at 224
    ->Args({224, 224, 3, 64})   // ImageNet-sized RGB
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// 10,000 images of 28x28 as one uncompressed IDX file in memory.
void BM_idx_parse(benchmark::State& st) {
    const std::uint32_t n = 10000, side = 28;
    std::vector<std::uint8_t> bytes{0, 0, 0x08, 3};
    for (std::uint32_t d : {n, side, side})
        for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<std::uint8_t>(d >> s));
    for (std::uint32_t i = 0; i < n * side * side; ++i) bytes.push_back(static_cast<std::uint8_t>(i * 2654435761u >> 24));
    for (auto _ : st) benchmark::DoNotOptimize(od::parse_idx(bytes).raw_data());
    st.counters["images/s"] = benchmark::Counter(n, benchmark::Counter::kIsIterationInvariantRate);
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * bytes.size()));
}
BENCHMARK(BM_idx_parse)->UseRealTime()->Unit(benchmark::kMillisecond);

#ifdef OMNI_BENCH_WITH_ZLIB
void BM_idx_load_gz(benchmark::State& st) {
    const std::filesystem::path file = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    if (!std::filesystem::exists(file)) {
        st.SkipWithError("no Debian dataset-fashion-mnist");
        return;
    }
    std::int64_t n = 0;
    for (auto _ : st) {
        const T images = od::load_idx_images(file);
        n = images.size(0);
        benchmark::DoNotOptimize(images.raw_data());
    }
    st.counters["images/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_idx_load_gz)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

}  // namespace

OMNI_BENCHMARK_MAIN();
