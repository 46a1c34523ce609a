// Checkpoint files as hostile input (issue 28): length fields that ask for more than the file
// holds, std::length_error sizes, NaN or fractional step counts, and malformed tensor records are
// io_errors naming the file; a file written by save_checkpoint still reads back.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "omni/backend/cpu.hpp"
#include "omni/io/checkpoint.hpp"
#include "omni/nn/linear.hpp"

namespace fs = std::filesystem;
using A = omni::autodiff<omni::cpu>;
using D = omni::Tensor<omni::cpu>;

namespace {

fs::path tmp(const std::string& name) { return fs::temp_directory_path() / ("omni_ckpt_" + name); }

struct Model {
    omni::Generator gen{1};
    omni::nn::Linear<A> lin{{.in = 4, .out = 3}, gen};
    omni::optim::AdamW<omni::cpu> opt{omni::optim::nn_param_groups(lin, 0.1)};
};

// The message load_checkpoint throws for `path` ("no error" when it loads).
std::string load_error(const fs::path& path) {
    Model m;
    omni::io::TrainState st;
    try {
        omni::io::load_checkpoint(path, m.lin, m.opt, st);
    } catch (const omni::io_error& e) {
        return e.what();
    }
    return "no error";
}

// A checkpoint file from its parts, written with cereal as save_checkpoint writes one.
fs::path write(const std::string& name, const omni::io::detail::CheckpointFile& f) {
    const fs::path p = tmp(name);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    cereal::PortableBinaryOutputArchive ar(out);
    ar(f);
    return p;
}

// The header fields up to the losses, then a losses length of `n` and nothing after it.
fs::path with_losses_length(const std::string& name, std::uint64_t n) {
    const fs::path p = tmp(name);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    cereal::PortableBinaryOutputArchive ar(out);
    ar(std::string(omni::io::checkpoint_magic), omni::io::checkpoint_version, std::int64_t{1}, std::uint64_t{0}, std::uint64_t{0});
    ar(cereal::make_size_tag(n));
    return p;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(CheckpointFile, SavedFilesStillLoad) {
    Model a;
    omni::io::save_checkpoint(tmp("good"), a.lin, a.opt, {.step = 2, .losses = {1.f, 2.f}, .metadata = {{"k", "v"}}});
    Model b;
    omni::io::TrainState st;
    omni::io::load_checkpoint(tmp("good"), b.lin, b.opt, st);
    EXPECT_EQ(st.step, 2);
    EXPECT_EQ(st.losses, (std::vector<float>{1.f, 2.f}));
    EXPECT_EQ(st.metadata.at("k"), "v");
    EXPECT_EQ(b.lin.weight.value().to_vector<float>(), a.lin.weight.value().to_vector<float>());
}

TEST(CheckpointFile, LengthFieldsBeyondTheFileAreIoErrors) {
    // 2^40 floats (4 TiB) from a 40-byte file: refused before any allocation.
    const std::string huge = load_error(with_losses_length("huge", std::uint64_t{1} << 40));
    EXPECT_TRUE(contains(huge, "io_error: load_checkpoint: " + tmp("huge").string() +
                                   ": truncated or corrupt (the length of losses is 1099511627776, more than the 0 bytes left"))
        << huge;
    // A length past vector::max_size: cereal's resize threw std::length_error out of load_checkpoint.
    const std::string max = load_error(with_losses_length("max", std::numeric_limits<std::uint64_t>::max()));
    EXPECT_TRUE(contains(max, "truncated or corrupt (the length of losses is 18446744073709551615")) << max;
}

TEST(CheckpointFile, StepCountsMustBeNonNegativeIntegers) {
    Model a;
    omni::io::save_checkpoint(tmp("base"), a.lin, a.opt, {.step = 1});
    omni::io::detail::CheckpointFile f;
    for (const auto& [name, t] : omni::io::state_dict(a.lin)) f.tensors.emplace("model." + name, omni::io::detail::TensorRecord::of(t));
    for (const std::string n : {"weight", "bias"})
        f.tensors.emplace("optim." + n + ".step", omni::io::detail::TensorRecord::of(D::scalar(std::nan(""), omni::dtype::f64)));
    const std::string nan = load_error(write("nan", f));
    EXPECT_TRUE(contains(nan, ": expected the step count of 'weight' as one int64 >= 0, got float64 []")) << nan;
    for (const std::string n : {"weight", "bias"})
        f.tensors["optim." + n + ".step"] = omni::io::detail::TensorRecord::of(D::scalar(-3, omni::dtype::i64));
    EXPECT_TRUE(contains(load_error(write("negative", f)), "expected the step count of 'weight' as one int64 >= 0, got int64 []"));
}

TEST(CheckpointFile, MalformedTensorRecordsAreIoErrors) {
    Model a;
    omni::io::detail::CheckpointFile f;
    for (const auto& [name, t] : omni::io::state_dict(a.lin)) f.tensors.emplace("model." + name, omni::io::detail::TensorRecord::of(t));
    auto& w = f.tensors["model.weight"];
    w.shape = {0, std::int64_t{1} << 40, std::int64_t{1} << 40};  // a zero extent hiding an overflow
    EXPECT_TRUE(contains(load_error(write("zero_hides", f)), "tensor 'model.weight' expected a shape matching its 48 bytes, got [0, 1099511627776, 1099511627776]"));
    w.shape = {1, 1, 1, 1, 1, 1, 1, 1, 12};
    EXPECT_TRUE(contains(load_error(write("rank9", f)), "tensor 'model.weight' expected at most 8 dims, got 9"));
    w = omni::io::detail::TensorRecord{static_cast<std::int32_t>(omni::dtype::b8), {2}, {1, 5}};
    EXPECT_TRUE(contains(load_error(write("bool", f)), "tensor 'model.weight' (bool): expected bytes 0 or 1, got 5"));
}

// Issue 28 (litter): a save killed midway leaves `run.ckpt.tmp.<pid>`; the next save of that
// path removes it once its writer is gone, and leaves a live writer's file and foreign names alone.
TEST(CheckpointFile, TheNextSaveRemovesTemporariesOfDeadWriters) {
    const fs::path dir = tmp("litter");
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path path = dir / "run.ckpt";
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ASSERT_GT(child, 0);
    ::waitpid(child, nullptr, 0);  // reaped: its pid names no process now
    const auto touch = [](const fs::path& p) { std::ofstream(p) << "partial checkpoint"; };
    const fs::path dead = path.string() + ".tmp." + std::to_string(child);
    const fs::path live = path.string() + ".tmp." + std::to_string(::getppid());
    const fs::path other = path.string() + ".tmp.notapid";
    for (const fs::path& p : {dead, live, other}) touch(p);
    Model m;
    omni::io::save_checkpoint(path, m.lin, m.opt, {.step = 3});
    EXPECT_FALSE(fs::exists(dead));
    EXPECT_TRUE(fs::exists(live));
    EXPECT_TRUE(fs::exists(other));
    EXPECT_EQ(load_error(path), "no error");
    fs::remove_all(dir);
}
