// The package's smoke test: a tiny Omni-C (image and text towers over one shared ViT) built from
// the installed headers, one forward per modality, shapes and finiteness checked. A non-zero exit
// fails `conan create`. Untaped cpu keeps this translation unit quick to compile header-only.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "omni/backend/cpu.hpp"
#include "omni/models/omni_c.hpp"

namespace {

using T = omni::Tensor<omni::cpu>;
using omni::models::image;
using omni::models::text;

bool check(const char* what, const T& z, const omni::Shape& want) {
    if (!(z.shape() == want)) {
        std::fprintf(stderr, "omni test_package: %s: expected %s, got %s\n", what, want.str().c_str(), z.shape().str().c_str());
        return false;
    }
    for (const float v : z.to_vector<float>())
        if (!std::isfinite(v)) {
            std::fprintf(stderr, "omni test_package: %s: non-finite output\n", what);
            return false;
        }
    return true;
}

}  // namespace

int main() {
    omni::models::OmniCConfig cfg = omni::models::omni_c_tiny;
    cfg.dim = cfg.head_hidden = cfg.head_out = 32;
    cfg.depth = 1;
    cfg.heads = 2;
    omni::Generator g(0);
    const omni::models::OmniC<omni::cpu, image, text> model(cfg, g);

    const T img = T::randn({2, 3, cfg.image_size, cfg.image_size}, g);
    const T ids = T::from_data<std::int64_t>(std::vector<std::int64_t>(2 * cfg.text_len, 101), {2, cfg.text_len});
    const bool ok = check("image", model.forward<image>(img), omni::Shape{2, cfg.head_out}) &&
                    check("text", model.forward<text>(ids), omni::Shape{2, cfg.head_out});
    if (!ok) return 1;
    std::printf("omni test_package: Omni-C forward (image, text) -> [2, %lld] ok\n", static_cast<long long>(cfg.head_out));
    return 0;
}
