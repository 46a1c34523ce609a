// JSON options files (train/options_file.hpp): round trips, every refusal with its message, and
// command-line overrides.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "omni/train/finetune.hpp"
#include "omni/train/loop.hpp"
#include "omni/train/options_file.hpp"

namespace {

using namespace omni;

enum class colour { red, green, blue };
enum class level : std::int8_t { low = 1, high = 5 };  // no option_names: read and written as integers

}  // namespace

template <> struct omni::option_names<colour> {
    static constexpr std::array<std::pair<colour, std::string_view>, 3> table{{{colour::red, "red"}, {colour::green, "green"}, {colour::blue, "blue"}}};
};
template <> struct omni::option_names<nn::adapter_kind> {
    static constexpr std::array<std::pair<nn::adapter_kind, std::string_view>, 2> table{{{nn::adapter_kind::lora, "lora"}, {nn::adapter_kind::sbora_fa, "sbora_fa"}}};
};

namespace {

struct Inner {
    double rate = 0.5;
    float scale = 2.0f;
    std::array<double, 2> range{0.2, 1.0};
    bool operator==(const Inner&) const = default;
    template <class V> void visit(V& v) const { v("rate", rate), v("scale", scale), v("range", range); }
};

struct Outer {
    std::string name = "run";
    std::int32_t count = 3;
    std::uint64_t seed = 42;
    std::int64_t offset = -7;
    bool flag = false;
    colour hue = colour::green;
    level lvl = level::low;
    std::vector<std::string> tags{"a", "b"};
    std::vector<double> weights{};
    std::map<std::string, double> scales{{"blocks.0.attn", 0.5}};
    std::map<colour, std::int64_t> per_colour{};
    Inner inner{};
    std::FILE* log = stderr;  // cannot be set from a file
    bool operator==(const Outer&) const = default;
    template <class V> void visit(V& v) const {
        v("name", name), v("count", count), v("seed", seed), v("offset", offset), v("flag", flag), v("hue", hue), v("lvl", lvl);
        v("tags", tags), v("weights", weights), v("scales", scales), v("per_colour", per_colour), v("inner", inner);
        v.local("log", log);
    }
};

Outer changed() {
    Outer o;
    o.name = "quote \" backslash \\ tab \t newline \n unicode \xc3\xa9";
    o.count = std::numeric_limits<std::int32_t>::min();
    o.seed = std::numeric_limits<std::uint64_t>::max();  // above 2^53: exact only as integer text
    o.offset = std::numeric_limits<std::int64_t>::min();
    o.flag = true;
    o.hue = colour::blue;
    o.lvl = level::high;
    o.tags = {};
    o.weights = {0.1, 1.0 / 3.0, -0.0, 1e-300, std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(), 0.1 + 0.2};
    o.scales = {{"head", 2.0}, {"blocks.3.mlp", 1e-3}};
    o.per_colour = {{colour::red, 3}, {colour::blue, -1}};
    o.inner = {.rate = 1e-4, .scale = 0.1f, .range = {0.08, 1.0}};
    return o;
}

// Every bit of every real, so -0.0 and 0.0 differ.
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) return false;
    return true;
}

// The message of the value_error `f` throws ("" when it throws none).
template <class F> std::string value_error_of(F&& f) {
    try {
        f();
    } catch (const value_error& e) {
        return e.what();
    }
    return "";
}

Outer read(const std::string& json) {
    Outer o;
    train::read_options_json(json, o, "test.json");
    return o;
}

TEST(OptionsFile, NestedStructRoundTripsExactly) {
    const Outer o = changed();
    const std::string text = train::options_json(o);
    const Outer back = read(text);
    EXPECT_EQ(back, o);
    EXPECT_TRUE(same_bits(back.weights, o.weights));
    EXPECT_TRUE(std::signbit(back.weights[2]));
    EXPECT_EQ(train::options_json(back), text);
    // Names for named enums (values and map keys), integers for the other; the FILE* is left out.
    EXPECT_NE(text.find("\"hue\": \"blue\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"lvl\": 5"), std::string::npos) << text;
    EXPECT_NE(text.find("\"red\": 3"), std::string::npos) << text;
    EXPECT_NE(text.find("\"seed\": 18446744073709551615"), std::string::npos) << text;
    EXPECT_NE(text.find("\"rate\": 1e-04"), std::string::npos) << text;  // shortest exact text, not 17 digits
    EXPECT_EQ(text.find("\"log\""), std::string::npos) << text;
}

TEST(OptionsFile, DefaultsWrittenInVisitOrder) {
    EXPECT_EQ(train::options_json(Outer{}),
              "{\n"
              "  \"name\": \"run\",\n"
              "  \"count\": 3,\n"
              "  \"seed\": 42,\n"
              "  \"offset\": -7,\n"
              "  \"flag\": false,\n"
              "  \"hue\": \"green\",\n"
              "  \"lvl\": 1,\n"
              "  \"tags\": [\"a\", \"b\"],\n"
              "  \"weights\": [],\n"
              "  \"scales\": {\n"
              "    \"blocks.0.attn\": 0.5\n"
              "  },\n"
              "  \"per_colour\": {},\n"
              "  \"inner\": {\n"
              "    \"rate\": 0.5,\n"
              "    \"scale\": 2,\n"
              "    \"range\": [0.2, 1]\n"
              "  }\n"
              "}\n");
}

TEST(OptionsFile, AbsentFieldsKeepTheirValuesAndContainersAreReplaced) {
    const Outer o = read(R"({"count": 9, "inner": {"scale": 0.25}, "tags": ["x"], "scales": {"head": 3}})");
    Outer expected;
    expected.count = 9;
    expected.inner.scale = 0.25f;
    expected.tags = {"x"};
    expected.scales = {{"head", 3.0}};  // the file's map replaces the default one, it does not merge
    EXPECT_EQ(o, expected);
    EXPECT_EQ(read("{}"), Outer{});
    // Enums also read as their integer; a named one only as a listed value.
    EXPECT_EQ(read(R"({"hue": 2, "per_colour": {"green": 1, "0": 4}})").hue, colour::blue);
    EXPECT_EQ(read(R"({"per_colour": {"green": 1, "0": 4}})").per_colour, (std::map<colour, std::int64_t>{{colour::red, 4}, {colour::green, 1}}));
}

TEST(OptionsFile, LoopOptionsRoundTripThroughAFile) {
    train::LoopOptions o{.steps = 1000, .epochs = 3, .batches_per_epoch = 17, .accumulate = 4, .lr = 3e-4, .min_lr = 1e-7, .warmup = 0.05,
                         .unit = train::schedule_unit::epoch, .clip_grad_norm = 1.0, .checkpoint = "run/ckpt.bin", .checkpoint_every = 50,
                         .resume = false, .numerics = train::on_other_numerics::restart, .stop_after = 5, .progress = nullptr, .label = "pretrain", .detect_anomaly = true};
    const auto dir = std::filesystem::temp_directory_path() / ("omni_options_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "loop.json";
    train::write_options(file, o);
    EXPECT_FALSE(std::filesystem::exists(dir / "loop.json.tmp"));
    train::LoopOptions back;
    train::read_options(file, back);
    EXPECT_EQ(back.progress, stderr);  // not in the file: keeps its default
    back.progress = nullptr;
    EXPECT_EQ(train::describe(back), train::describe(o));
    EXPECT_EQ(train::RunIdentity().options("loop", back).str(), train::RunIdentity().options("loop", o).str());
    std::filesystem::remove_all(dir);
}

TEST(OptionsFile, ProxyFieldsAreWrittenAndReadAndTensorsAreRefused) {
    // FinetuneOptions lists its adapter through a proxy (train::AdapterFields) and holds tensors
    // and a FILE*: the proxy's fields round-trip, the others are left out and refused.
    train::FinetuneOptions o;
    o.adapter = {.kind = nn::adapter_kind::lora, .rank = 16, .alpha = 8};
    o.lr = 2e-3;
    o.init_weight = Tensor<cpu>::zeros({2, 3});
    const std::string text = train::options_json(o);
    EXPECT_NE(text.find("\"kind\": \"lora\""), std::string::npos) << text;
    EXPECT_EQ(text.find("init_weight"), std::string::npos) << text;
    EXPECT_EQ(text.find("progress"), std::string::npos) << text;
    train::FinetuneOptions back;
    train::read_options_json(text, back, "ft.json");
    EXPECT_EQ(back.adapter.kind, nn::adapter_kind::lora);
    EXPECT_EQ(back.adapter.rank, 16);
    EXPECT_EQ(back.adapter.alpha, 8);
    EXPECT_EQ(back.lr, 2e-3);
    EXPECT_EQ(value_error_of([] {
                  train::FinetuneOptions f;
                  train::read_options_json(R"({"init_weight": [1, 2]})", f, "ft.json");
              }),
              "value_error: train::read_options: ft.json: init_weight: expected no value (this field cannot be set from an options file), got an array of 2");
}

TEST(OptionsFile, RefusalsNameSourceKeyPathExpectedAndActual) {
    const auto err = [](const std::string& json) { return value_error_of([&] { read(json); }); };
    const std::string op = "value_error: train::read_options: test.json: ";
    EXPECT_EQ(err(R"({"inner": {"rate2": 1}})"), op + "inner.rate2: expected a known key (one of rate, scale, range), got an unknown key");
    EXPECT_EQ(err(R"({"count": "3"})"), op + "count: expected an integer in [-2147483648, 2147483647], got string \"3\"");
    EXPECT_EQ(err(R"({"count": 3000000000})"), op + "count: expected an integer in [-2147483648, 2147483647], got number 3000000000");
    EXPECT_EQ(err(R"({"count": 2.5})"), op + "count: expected an integer in [-2147483648, 2147483647], got number 2.5");
    EXPECT_EQ(err(R"({"seed": -1})"), op + "seed: expected an integer in [0, 18446744073709551615], got number -1");
    EXPECT_EQ(err(R"({"inner": {"rate": true}})"), op + "inner.rate: expected a finite number within double range, got true");
    EXPECT_EQ(err(R"({"inner": {"scale": 1e300}})"), op + "inner.scale: expected a finite number within float range, got number 1e300");
    EXPECT_EQ(err(R"({"flag": 1})"), op + "flag: expected true or false, got number 1");
    EXPECT_EQ(err(R"({"name": null})"), op + "name: expected a string, got null");
    EXPECT_EQ(err(R"({"hue": "purple"})"), op + "hue: expected one of red, green, blue, got string \"purple\"");
    EXPECT_EQ(err(R"({"hue": 7})"), op + "hue: expected one of red, green, blue, got number 7");
    EXPECT_EQ(err(R"({"lvl": "high"})"), op + "lvl: expected an integer (this enum has no option_names), got string \"high\"");
    EXPECT_EQ(err(R"({"lvl": 300})"), op + "lvl: expected an integer in [-128, 127], got number 300");
    EXPECT_EQ(err(R"({"tags": "a"})"), op + "tags: expected an array, got string \"a\"");
    EXPECT_EQ(err(R"({"tags": ["a", 2]})"), op + "tags[1]: expected a string, got number 2");
    EXPECT_EQ(err(R"({"inner": {"range": [1]}})"), op + "inner.range: expected an array of 2, got an array of 1");
    EXPECT_EQ(err(R"({"per_colour": {"cyan": 1}})"), op + "per_colour.cyan: expected one of red, green, blue, got string \"cyan\"");
    EXPECT_EQ(err(R"({"scales": {"head": "x"}})"), op + "scales.head: expected a finite number within double range, got string \"x\"");
    EXPECT_EQ(err(R"({"inner": 3})"), op + "inner: expected an object, got number 3");
    EXPECT_EQ(err(R"({"log": "stderr"})"), op + "log: expected no value (this field cannot be set from an options file), got string \"stderr\"");
    EXPECT_EQ(err(R"([1, 2])"), op + "(top level): expected an object, got an array of 2");
    EXPECT_EQ(err(R"({"count": 1, "count": 2})"), op + "count: expected each key once, got it twice");
    // JSON has no infinity: a number too large for a double is a syntax error, named by place and key.
    EXPECT_EQ(err("{\"inner\": {\n  \"rate\": 1e999}}"),
              op + "expected JSON, got a syntax error at line 2, column 11 (at inner.rate): Number too big to be stored in double.");
    EXPECT_EQ(err("{\"inner\": {\"rate\": NaN}}"), op + "expected JSON, got a syntax error at line 1, column 20 (at inner.rate): Invalid value.");
    EXPECT_EQ(err("{\"count\": 1,}"), op + "expected JSON, got a syntax error at line 1, column 13: Missing a name for object member.");
}

TEST(OptionsFile, AFailedReadLeavesTheOptionsAsTheyWere) {
    Outer o = changed();
    EXPECT_THROW(train::read_options_json(R"({"count": 5, "inner": {"rate": "x"}})", o, "bad.json"), value_error);
    EXPECT_EQ(o, changed());
    EXPECT_THROW(train::read_options("/nonexistent/omni/options.json", o), io_error);
}

TEST(OptionsFile, OverridesSetScalarsNestedFieldsMapKeysAndContainers) {
    Outer o;
    train::apply_override(o, "count=12");
    train::apply_override(o, "inner.rate=3e-4");
    train::apply_override(o, "name=a=b");  // the first '=' splits
    train::apply_override(o, "hue=red");
    train::apply_override(o, "flag=true");
    train::apply_override(o, "scales.blocks.3.mlp=2");  // a map key with dots
    train::apply_override(o, "per_colour.blue=4");
    train::apply_override(o, R"(tags=["x","y"])");
    train::apply_override(o, R"(inner={"scale": 0.5})");  // a struct as JSON: absent fields keep theirs
    EXPECT_EQ(o.count, 12);
    EXPECT_EQ(o.inner.rate, 3e-4);
    EXPECT_EQ(o.inner.scale, 0.5f);
    EXPECT_EQ(o.name, "a=b");
    EXPECT_EQ(o.hue, colour::red);
    EXPECT_TRUE(o.flag);
    EXPECT_EQ(o.scales, (std::map<std::string, double>{{"blocks.0.attn", 0.5}, {"blocks.3.mlp", 2.0}}));
    EXPECT_EQ(o.per_colour, (std::map<colour, std::int64_t>{{colour::blue, 4}}));
    EXPECT_EQ(o.tags, (std::vector<std::string>{"x", "y"}));

    const auto err = [](const std::string& a) {
        return value_error_of([&] {
            Outer x;
            train::apply_override(x, a);
        });
    };
    const std::string op = "value_error: train::apply_override: ";
    EXPECT_EQ(err("count"), op + "'count': (top level): expected KEY.PATH=VALUE, got no key");
    EXPECT_EQ(err("inner.rat=1"), op + "'inner.rat=1': inner.rat: expected a known key (one of rate, scale, range), got an unknown key");
    EXPECT_EQ(err("count.x=1"), op + "'count.x=1': count.x: expected a key inside an options struct or map, got 'count', which is neither");
    EXPECT_EQ(err("inner.rate=-inf"), op + "'inner.rate=-inf': inner.rate: expected a finite number within double range, got number -inf");
    EXPECT_EQ(err("inner.rate=-nan"), op + "'inner.rate=-nan': inner.rate: expected a finite number within double range, got number -nan");
    EXPECT_EQ(err("inner.rate=inf"), op + "'inner.rate=inf': inner.rate: expected a finite number within double range, got string \"inf\"");
    EXPECT_EQ(err("inner.rate=1e999"), op + "'inner.rate=1e999': inner.rate: expected a finite number within double range, got number 1e999");
    EXPECT_EQ(err("count=1e3"), op + "'count=1e3': count: expected an integer in [-2147483648, 2147483647], got number 1e3");
    EXPECT_EQ(err("flag=yes"), op + "'flag=yes': flag: expected true or false, got \"yes\"");
    EXPECT_EQ(err("log=x"), op + "'log=x': log: expected a field an options file can set, got one it cannot (a file, tensor or pointer)");
    EXPECT_EQ(err("tags=x"), op + "'tags=x': tags: expected JSON, got a syntax error at line 1, column 1: Invalid value.");
}

}  // namespace

// Issue 28, found by tests/fuzz/options_fuzz.cpp: a UTF-8 lead byte ending the text made
// rapidjson's validation read past the buffer (ASan: heap overflow); it is a syntax error.
TEST(OptionsFile, TruncatedUtf8AtTheEndIsASyntaxError) {
    Outer o;
    for (const std::string& text : {std::string("{\n\n\n\"   \xe6"), std::string("{\"name\": \"\xf0\x9f"), std::string("\xe6")}) {
        const std::string m = value_error_of([&] { train::read_options_json(text, o, "t.json"); });
        EXPECT_NE(m.find("value_error: train::read_options: t.json: expected JSON, got a syntax error"), std::string::npos) << m;
    }
    EXPECT_EQ(o, Outer{});
}
