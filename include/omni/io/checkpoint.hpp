#pragma once
// Training checkpoints with cereal: a module's tensors by name, the AdamW moments of every
// parameter, and the loop state (step, RNG, loss history), in one portable binary file tagged
// with a format version. Writes are atomic: the file goes to a temporary name beside the target,
// is fsync'ed and then renamed over it, so a crash mid-save leaves the last good checkpoint (and
// a temporary file that the next save of that path removes).
//
//   io::save_checkpoint("run.ckpt", model, opt, state);       // every k steps
//   if (io::checkpoint_exists("run.ckpt")) io::load_checkpoint("run.ckpt", model, opt, state);
//
// Include cost: pulls in cereal, so only translation units that checkpoint include it.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "omni/io/weights.hpp"
#include "omni/optim/adamw.hpp"

namespace omni::io {

/// What a training loop needs besides weights and moments to continue bit for bit.
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
        if (shape.size() > static_cast<std::size_t>(max_dims))
            throw io_error("load_checkpoint", path + ": tensor '" + name + "' expected at most " + std::to_string(max_dims) +
                                                  " dims, got " + std::to_string(shape.size()));
        Shape s(shape);
        std::int64_t numel = 0;
        if (!extents_fit(s, numel) || static_cast<std::uint64_t>(numel) > bytes.size() / size_of(t) + 1)
            throw io_error("load_checkpoint", path + ": tensor '" + name + "' expected a shape matching its " + std::to_string(bytes.size()) +
                                                  " bytes, got " + s.str());
        if (static_cast<std::int64_t>(bytes.size()) != numel * static_cast<std::int64_t>(size_of(t)))
            throw io_error("load_checkpoint", path + ": tensor '" + name + "' expected " + std::to_string(numel * size_of(t)) +
                                                  " bytes for " + s.str() + ", got " + std::to_string(bytes.size()));
        if (t == dtype::b8)
            for (const std::uint8_t b : bytes)
                if (b > 1) throw io_error("load_checkpoint", path + ": tensor '" + name + "' (bool): expected bytes 0 or 1, got " + std::to_string(b));
        Tensor<cpu> out = Tensor<cpu>::empty(s, t);
        if (!bytes.empty()) std::memcpy(out.raw_data(), bytes.data(), bytes.size());
        return out;
    }
    template <class Archive> void save(Archive& ar) const { ar(type, shape, bytes); }
};

// Loading reads every length field itself (cereal's containers resize to whatever a length says,
// so a few corrupt bytes could ask for gigabytes, or throw std::length_error): a length is
// refused when its elements cannot fit in what is left of the file. The byte layout is cereal's
// own for these containers, so files written by cereal's serialize read back unchanged.
template <class Archive> class BoundedReader {
public:
    BoundedReader(Archive& ar, std::istream& in, std::uint64_t file_size) : ar_(ar), in_(in), size_(file_size) {}

    // A length field whose elements, at least `min_bytes` each, must fit in the rest of the file.
    std::size_t length(std::uint64_t min_bytes, const char* what) {
        cereal::size_type n = 0;
        ar_(cereal::make_size_tag(n));
        const std::streamoff at = in_.tellg();
        const std::uint64_t left = at < 0 || static_cast<std::uint64_t>(at) > size_ ? 0 : size_ - static_cast<std::uint64_t>(at);
        if (n > left / min_bytes)
            throw cereal::Exception(std::string("the length of ") + what + " is " + std::to_string(n) + ", more than the " +
                                    std::to_string(left) + " bytes left in the file can hold");
        return static_cast<std::size_t>(n);
    }
    template <class T> void vector(std::vector<T>& v, const char* what) {
        static_assert(std::is_arithmetic_v<T>);
        v.resize(length(sizeof(T), what));
        if (!v.empty()) ar_(cereal::binary_data(v.data(), v.size() * sizeof(T)));
    }
    void string(std::string& s, const char* what) {
        s.resize(length(1, what));
        if (!s.empty()) ar_(cereal::binary_data(s.data(), s.size()));
    }
    template <class V, class F> void map(std::map<std::string, V>& m, F&& value, const char* what) {
        const std::size_t n = length(2 * sizeof(cereal::size_type), what);  // a key's length and the value's first field
        m.clear();
        for (std::size_t i = 0; i < n; ++i) {
            std::string key;
            string(key, "a key");
            V v;
            value(v);
            m.emplace(std::move(key), std::move(v));  // a repeated key keeps the first, as cereal does
        }
    }
    Archive& archive() { return ar_; }

private:
    Archive& ar_;
    std::istream& in_;
    std::uint64_t size_;
};

struct CheckpointFile {
    std::string magic = checkpoint_magic;
    std::uint32_t version = checkpoint_version;
    TrainState state;
    std::map<std::string, TensorRecord> tensors;
    template <class Archive> void save(Archive& ar) const {
        ar(magic, version, state.step, state.rng_seed, state.rng_offset, state.losses, state.modalities, state.metadata, tensors);
    }
    template <class Archive> void read(BoundedReader<Archive>& r) {
        Archive& ar = r.archive();
        r.string(magic, "the magic");
        ar(version);
        if (magic != checkpoint_magic) return;  // the reader reports it
        ar(state.step, state.rng_seed, state.rng_offset);
        r.vector(state.losses, "losses");
        r.vector(state.modalities, "modalities");
        r.map(state.metadata, [&](std::string& v) { r.string(v, "a metadata value"); }, "metadata");
        r.map(tensors, [&](TensorRecord& t) {
            ar(t.type);
            r.vector(t.shape, "a shape");
            r.vector(t.bytes, "tensor bytes");
        }, "tensors");
    }
};

inline void fsync_path(const std::filesystem::path& p, bool directory) {
    const int fd = ::open(p.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return;  // best effort for directories on filesystems that refuse it
    ::fsync(fd);
    ::close(fd);
}

inline std::string moment_key(const std::string& name, const char* which) { return "optim." + name + "." + which; }

// A save killed midway (SIGKILL, power loss) leaves `path.tmp.<pid>` of full size beside the
// checkpoint. The next save of the same path removes those whose writer is gone: the pid no
// longer exists (kill(pid, 0) fails with ESRCH). A live writer's file, or one whose pid was
// reused by another process, is left alone: a leftover file beats a corrupted concurrent save.
inline void remove_stale_temporaries(const std::filesystem::path& path) {
    std::error_code ec;
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    const std::string prefix = path.filename().string() + ".tmp.";
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string digits = name.substr(prefix.size());
        if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(digits));
        if (pid <= 0 || pid == ::getpid() || !it->is_regular_file(ec)) continue;
        if (::kill(pid, 0) == -1 && errno == ESRCH) std::filesystem::remove(it->path(), ec);
    }
}

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
    detail::remove_stale_temporaries(path);
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
        std::error_code ec;
        const std::uint64_t size = std::filesystem::file_size(path, ec);
        cereal::PortableBinaryInputArchive ar(in);
        detail::BoundedReader<cereal::PortableBinaryInputArchive> reader(ar, in, ec ? 0 : size);
        f.read(reader);
    } catch (const cereal::Exception& e) {
        throw io_error("load_checkpoint", p + ": truncated or corrupt (" + e.what() + ")");
    } catch (const std::bad_alloc&) {
        throw io_error("load_checkpoint", p + ": corrupt (a length field asks for more memory than exists)");
    } catch (const std::length_error& e) {
        throw io_error("load_checkpoint", p + ": corrupt (" + e.what() + ")");
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
            const Tensor<cpu> steps = step->second.tensor(n, p);
            // An integer read as such: a NaN or huge double cast to int64 is undefined behaviour.
            if (steps.type() != dtype::i64 || steps.numel() != 1 || steps.template data<std::int64_t>()[0] < 0)
                throw io_error("load_checkpoint", p + ": expected the step count of '" + n + "' as one int64 >= 0, got " +
                                                      name_of(steps.type()) + " " + steps.shape().str());
            s.step = steps.template data<std::int64_t>()[0];
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
