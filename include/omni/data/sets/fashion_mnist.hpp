#pragma once
// Fashion-MNIST (Xiao et al. 2017): images [N, 28, 28] float32 in [0, 1] and labels [N] int64,
// from Debian's dataset-fashion-mnist (scripts/data/fashion_mnist.sh links it under
// data_dir()/fashion-mnist). Read through image/idx.hpp, so link zlib.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"
#include "omni/data/data_dir.hpp"
#include "omni/data/image/idx.hpp"

namespace omni::data {

// Fashion-MNIST's classes by label.
inline constexpr std::array<std::string_view, 10> fashion_mnist_classes{
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

// Where Fashion-MNIST's IDX files are: data_dir()/fashion-mnist, else Debian's own directory.
inline std::filesystem::path fashion_mnist_dir() {
    std::error_code ec;
    for (const std::filesystem::path& d : {data_dir() / "fashion-mnist", std::filesystem::path("/usr/share/datasets/fashion-mnist")})
        if (std::filesystem::is_directory(d, ec)) return d;
    throw io_error("fashion_mnist_dir", "expected Fashion-MNIST in " + (data_dir() / "fashion-mnist").string() +
                                            " or /usr/share/datasets/fashion-mnist, got neither (run scripts/data/fashion_mnist.sh)");
}

/// Labelled grey images, as load_fashion_mnist returns them.
struct ImageDataset {
    Tensor<cpu> images;  // [N, H, W] float32 in [0, 1]
    Tensor<cpu> labels;  // [N] int64
    std::int64_t size() const { return labels.defined() ? labels.numel() : 0; }
};

enum class Split { train, test };

// The train (60,000) or test (10,000) split from `dir` (default fashion_mnist_dir());
// `max_items` >= 0 loads only the first ones.
OMNI_ZLIB_INLINE ImageDataset load_fashion_mnist(Split split, std::int64_t max_items = -1, std::filesystem::path dir = {})
#if OMNI_ZLIB_DEFINE
{
    if (dir.empty()) dir = fashion_mnist_dir();
    const std::string stem = split == Split::train ? "train" : "t10k";
    // Debian ships *.gz; an unpacked copy is read the same way.
    const auto pick = [&](const std::string& name) {
        std::error_code ec;
        const std::filesystem::path gz = dir / (name + ".gz");
        return std::filesystem::exists(gz, ec) ? gz : dir / name;
    };
    ImageDataset d{load_idx_images(pick(stem + "-images-idx3-ubyte"), max_items),
                   load_idx_labels(pick(stem + "-labels-idx1-ubyte"), max_items)};
    if (d.images.size(0) != d.labels.numel())
        throw io_error("load_fashion_mnist", "expected one label per image in " + dir.string() + ", got " +
                                                 std::to_string(d.images.size(0)) + " images and " +
                                                 std::to_string(d.labels.numel()) + " labels");
    return d;
}
#else
;
#endif

}  // namespace omni::data
