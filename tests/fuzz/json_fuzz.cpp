// libFuzzer harness: json::parse, the dependency-free reader of pretrained models' configuration
// files (config.json, tokenizer_config.json), then the typed lookups the loaders use on what it
// returns. Everything but an omni::error escaping is a finding.
#include "fuzz_input.hpp"
#include "omni/core/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = omni_fuzz::as_text(data, size);
    omni_fuzz::expect_omni_errors([&] {
        const omni::json::Value v = omni::json::parse(text, "config.json");
        for (const char* key : {"do_lower_case", "hidden_size", "model_type", "max_seq_length"}) {
            try {
                (void)omni::json::get_bool(v, key, "config.json");
            } catch (const omni::error&) {}
            try {
                (void)omni::json::get_int(v, key, "config.json");
            } catch (const omni::error&) {}
            try {
                (void)omni::json::get_string(v, key, "config.json");
            } catch (const omni::error&) {}
        }
    });
    return 0;
}
