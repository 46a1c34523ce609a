// libFuzzer harness: data::WordPiece::from_file on a vocab file, then encode and decode of a text.
// The input is "vocab bytes \x00 text bytes"; a vocab with the four required specials is
// prepended so that most inputs get past the constructor and exercise the tokenizer.
#include <cstring>

#include "fuzz_input.hpp"
#include "omni/data/text/wordpiece.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in = omni_fuzz::as_text(data, size);
    const std::size_t cut = std::min(in.find('\0'), in.size());
    const std::string vocab = std::string("[PAD]\n[UNK]\n[CLS]\n[SEP]\n") + std::string(in.substr(0, cut));
    const std::string text(cut < in.size() ? in.substr(cut + 1) : in);
    const auto path = omni_fuzz::write_file("vocab.txt", {reinterpret_cast<const std::uint8_t*>(vocab.data()), vocab.size()});
    omni_fuzz::expect_omni_errors([&] {
        const auto wp = omni::data::WordPiece::from_file(path.string());
        const auto enc = wp.encode(text, 64);
        (void)wp.decode(enc.ids);
        (void)wp.tokens(text);
    });
    return 0;
}
