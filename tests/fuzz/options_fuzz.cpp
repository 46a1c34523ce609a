// libFuzzer harness: train::read_options_json (JSON options files) into a struct with every kind
// of field the reader supports, and train::apply_override on the same bytes as "KEY=VALUE".
#include <array>
#include <map>
#include <vector>

#include "fuzz_input.hpp"
#include "omni/train/options_file.hpp"

namespace {
enum class colour { red, green, blue };
}  // namespace

template <> struct omni::option_names<colour> {
    static constexpr std::array<std::pair<colour, std::string_view>, 3> table{
        {{colour::red, "red"}, {colour::green, "green"}, {colour::blue, "blue"}}};
};

namespace {
struct Inner {
    double rate = 0.5;
    float scale = 2.0f;
    std::array<double, 2> range{0.2, 1.0};
    template <class V> void visit(V& v) const { v("rate", rate), v("scale", scale), v("range", range); }
};
struct Options {
    std::string name = "run";
    std::int32_t count = 3;
    std::uint64_t seed = 42;
    std::int64_t offset = -7;
    std::uint8_t small = 1;
    bool flag = false;
    colour hue = colour::green;
    std::vector<std::string> tags{"a"};
    std::vector<double> weights{};
    std::map<std::string, double> scales{};
    std::map<colour, std::int64_t> per_colour{};
    std::map<std::int32_t, std::vector<Inner>> nested{};
    Inner inner{};
    template <class V> void visit(V& v) const {
        v("name", name), v("count", count), v("seed", seed), v("offset", offset), v("small", small), v("flag", flag);
        v("hue", hue), v("tags", tags), v("weights", weights), v("scales", scales), v("per_colour", per_colour);
        v("nested", nested), v("inner", inner);
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = omni_fuzz::as_text(data, size);
    Options o;
    omni_fuzz::expect_omni_errors([&] {
        omni::train::read_options_json(text, o, "fuzz.json");
        (void)omni::train::options_json(o);  // whatever was read must write back
    });
    omni_fuzz::expect_omni_errors([&] { omni::train::apply_override(o, text); });
    return 0;
}
