#pragma once
// Training checkpoints with cereal: a module's tensors by name, the AdamW moments of every
// parameter, and the loop state (step, RNG, loss history), in one portable binary file tagged
// with a format version. Writes are atomic: the file goes to a temporary name beside the target,
// is fsync'ed and then renamed over it, so a crash mid-save leaves the last good checkpoint.
//
//   io::save_checkpoint("run.ckpt", model, opt, state);       // every k steps
//   if (io::checkpoint_exists("run.ckpt")) io::load_checkpoint("run.ckpt", model, opt, state);
//
// Include cost: pulls in cereal, so only translation units that checkpoint include it.
#include <fcntl.h>
#include <unistd.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "omni/io/weights.hpp"
#include "omni/optim/adamw.hpp"

namespace omni::io {

// What a training loop needs besides weights and moments to continue bit for bit.
struct TrainState {
    std::int64_t step = 0;                        // optimiser steps taken
    std::uint64_t rng_seed = 0, rng_offset = 0;   // the loop's Generator (augmentations)
    std::vector<float> losses{};                  // per step, for curves after a resume
    std::vector<std::int32_t> modalities{};       // per step: which modality the batch was
    std::map<std::string, std::string> metadata{};  // free-form: configuration, dataset, ...
};

inline constexpr std::uint32_t checkpoint_version = 1;
inline constexpr const char* checkpoint_magic = "omni-checkpoint";

namespace detail {

// A host tensor as cereal sees it: dtype, shape and the raw bytes (portable_binary swaps
// endianness of the header fields; the payload is little-endian on every supported target).
struct TensorRecord {
    std::int32_t type = 0;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;

    static TensorRecord of(const Tensor<cpu>& t) {
        const Tensor<cpu> c = t.contiguous();
        TensorRecord r{static_cast<std::int32_t>(c.type()), {}, {}};
        for (int i = 0; i < c.dim(); ++i) r.shape.push_back(c.shape()[i]);
        const auto* p = static_cast<const std::uint8_t*>(c.raw_data());
        r.bytes.assign(p, p + c.numel() * static_cast<std::int64_t>(size_of(c.type())));
        return r;
    }
    Tensor<cpu> tensor(const std::string& name, const std::string& path) const {
        if (type < 0 || type > static_cast<std::int32_t>(dtype::bf16))
            throw io_error("load_checkpoint", path + ": tensor '" + name + "' has unknown dtype code " + std::to_string(type));
        const dtype t = static_cast<dtype>(type);
        Shape s(shape);
        if (static_cast<std::int64_t>(bytes.size()) != s.numel() * static_cast<std::int64_t>(size_of(t)))
            throw io_error("load_checkpoint", path + ": tensor '" + name + "' expected " + std::to_string(s.numel() * size_of(t)) +
                                                  " bytes for " + s.str() + ", got " + std::to_string(bytes.size()));
        Tensor<cpu> out = Tensor<cpu>::empty(s, t);
        if (!bytes.empty()) std::memcpy(out.raw_data(), bytes.data(), bytes.size());
        return out;
    }
    template <class Archive> void serialize(Archive& ar) { ar(type, shape, bytes); }
};

struct CheckpointFile {
    std::string magic = checkpoint_magic;
    std::uint32_t version = checkpoint_version;
    TrainState state;
    std::map<std::string, TensorRecord> tensors;
    template <class Archive> void serialize(Archive& ar) {
        ar(magic, version);
        if (magic != checkpoint_magic) return;  // the reader reports it
        ar(state.step, state.rng_seed, state.rng_offset, state.losses, state.modalities, state.metadata, tensors);
    }
};

inline void fsync_path(const std::filesystem::path& p, bool directory) {
    const int fd = ::open(p.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return;  // best effort for directories on filesystems that refuse it
    ::fsync(fd);
    ::close(fd);
}

inline std::string moment_key(const std::string& name, const char* which) { return "optim." + name + "." + which; }

}  // namespace detail

inline bool checkpoint_exists(const std::filesystem::path& path) {
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec);
}

// Writes model tensors, AdamW state and `state` to `path` atomically. Parameters of `opt` must
// carry names (nn_param_groups gives them), which key their moments.
template <nn::module M, class P>
void save_checkpoint(const std::filesystem::path& path, M& model, const optim::AdamW<P>& opt, const TrainState& state) {
    detail::CheckpointFile f;
    f.state = state;
    for (const auto& [name, t] : state_dict(model)) f.tensors.emplace("model." + name, detail::TensorRecord::of(t));
    for (std::size_t g = 0; g < opt.groups.size(); ++g) {
        const auto& group = opt.groups[g];
        if (group.names.size() != group.params.size())
            throw value_error("save_checkpoint", "expected a name for each of the " + std::to_string(group.params.size()) +
                                                     " parameters of group " + std::to_string(g) + ", got " + std::to_string(group.names.size()));
        for (std::size_t i = 0; i < group.params.size(); ++i) {
            const auto& s = opt.state[g][i];
            const std::string& n = group.names[i];
            f.tensors.emplace(detail::moment_key(n, "step"), detail::TensorRecord::of(Tensor<cpu>::scalar(static_cast<double>(s.step), dtype::i64)));
            if (!s.exp_avg.defined()) continue;
            f.tensors.emplace(detail::moment_key(n, "exp_avg"), detail::TensorRecord::of(detail::to_host(s.exp_avg)));
            f.tensors.emplace(detail::moment_key(n, "exp_avg_sq"), detail::TensorRecord::of(detail::to_host(s.exp_avg_sq)));
        }
    }
    std::error_code ec;
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::filesystem::create_directories(dir, ec);
    const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw io_error("save_checkpoint", "cannot open " + tmp.string() + " for writing");
        {
            cereal::PortableBinaryOutputArchive ar(out);
            ar(f);
        }
        out.flush();
        if (!out) {
            out.close();
            std::filesystem::remove(tmp, ec);
            throw io_error("save_checkpoint", "write failed for " + tmp.string() + " (disk full?); " + path.string() + " is unchanged");
        }
    }
    detail::fsync_path(tmp, false);
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw io_error("save_checkpoint", "cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
    }
    detail::fsync_path(dir, true);
}

// Restores what save_checkpoint wrote into a model and optimiser built the same way. Throws
// io_error for a missing, truncated or foreign file and shape_error for a model that differs.
// `require`: metadata the file must carry with these values where it has the key (a run's
// recipe); a mismatch throws value_error before the model or optimiser is touched.
template <nn::module M, class P>
void load_checkpoint(const std::filesystem::path& path, M& model, optim::AdamW<P>& opt, TrainState& state,
                     const std::map<std::string, std::string>& require = {}) {
    const std::string p = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!checkpoint_exists(path) || !in) throw io_error("load_checkpoint", "expected a checkpoint file, got none at '" + p + "'");
    detail::CheckpointFile f;
    f.magic.clear();
    try {
        cereal::PortableBinaryInputArchive ar(in);
        ar(f);
    } catch (const cereal::Exception& e) {
        throw io_error("load_checkpoint", p + ": truncated or corrupt (" + e.what() + ")");
    } catch (const std::bad_alloc&) {
        throw io_error("load_checkpoint", p + ": corrupt (a length field asks for more memory than exists)");
    }
    if (f.magic != checkpoint_magic) throw io_error("load_checkpoint", p + ": expected an omni checkpoint, got another file");
    if (f.version != checkpoint_version)
        throw io_error("load_checkpoint", p + ": expected format version " + std::to_string(checkpoint_version) + ", got " + std::to_string(f.version));
    for (const auto& [key, want] : require)
        if (const auto it = f.state.metadata.find(key); it != f.state.metadata.end() && it->second != want)
            throw value_error("load_checkpoint", p + " was written with " + key + " (" + it->second + "); expected (" + want +
                                                     "): remove the file or checkpoint elsewhere");
    Safetensors weights;
    for (const auto& [name, rec] : f.tensors)
        if (name.rfind("model.", 0) == 0) weights.tensors.emplace(name.substr(6), rec.tensor(name, p));
    load_weights(model, weights, true);
    for (std::size_t g = 0; g < opt.groups.size(); ++g) {
        const auto& group = opt.groups[g];
        for (std::size_t i = 0; i < group.params.size() && i < group.names.size(); ++i) {
            auto& s = opt.state[g][i];
            const std::string& n = group.names[i];
            const auto step = f.tensors.find(detail::moment_key(n, "step"));
            if (step == f.tensors.end()) throw io_error("load_checkpoint", p + ": expected optimiser state for '" + n + "', got none");
            s.step = static_cast<std::int64_t>(step->second.tensor(n, p).template item<double>());
            const auto m1 = f.tensors.find(detail::moment_key(n, "exp_avg"));
            const auto m2 = f.tensors.find(detail::moment_key(n, "exp_avg_sq"));
            if (m1 == f.tensors.end() || m2 == f.tensors.end()) {
                s.exp_avg = s.exp_avg_sq = Tensor<P>();
                continue;
            }
            const Var<P>& param = group.params[i];
            const Tensor<cpu> a = m1->second.tensor(n, p), b = m2->second.tensor(n, p);
            if (!(a.shape() == param.shape()) || !(b.shape() == param.shape()))
                throw shape_error("load_checkpoint", n + " moments: expected " + param.shape().str() + ", got " + a.shape().str());
            s.exp_avg = Tensor<P>::zeros(param.shape(), param.type());
            s.exp_avg_sq = Tensor<P>::zeros(param.shape(), param.type());
            detail::assign(s.exp_avg, a);
            detail::assign(s.exp_avg_sq, b);
        }
    }
    state = std::move(f.state);
}

}  // namespace omni::io
