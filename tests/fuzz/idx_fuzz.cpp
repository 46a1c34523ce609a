// libFuzzer harness: data::parse_idx (the IDX header and values of MNIST files), whole and with
// max_items = 1, as read_idx reads them after zlib.
#include "fuzz_input.hpp"
#include "omni/data/image/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    omni_fuzz::expect_omni_errors([&] { (void)omni::data::parse_idx(bytes, "fuzz.idx"); });
    omni_fuzz::expect_omni_errors([&] { (void)omni::data::parse_idx(bytes, "fuzz.idx", 1); });
    return 0;
}
