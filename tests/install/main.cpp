// Multiplies two small known matrices through the installed headers and compares with the
// product worked out by hand; a non-zero exit tells scripts/check_install.sh it failed.
#include <cmath>
#include <cstdio>
#include <vector>

#include "omni/backend/cpu.hpp"

int main() {
    using T = omni::Tensor<omni::cpu>;
    const T a = T::from_data<float>({1, 2, 3, 4, 5, 6}, {2, 3});
    const T b = T::from_data<float>({7, 8, 9, 10, 11, 12}, {3, 2});
    const std::vector<float> want{58, 64, 139, 154};

    const T c = omni::matmul(a, b);
    if (!(c.shape() == omni::Shape{2, 2})) {
        std::fprintf(stderr, "install check: expected shape [2, 2], got %s\n", c.shape().str().c_str());
        return 1;
    }
    const std::vector<float> got = c.to_vector<float>();
    for (std::size_t i = 0; i < want.size(); ++i)
        if (std::abs(got[i] - want[i]) > 1e-4f) {
            std::fprintf(stderr, "install check: element %zu expected %g, got %g\n", i, want[i], got[i]);
            return 1;
        }
    std::printf("install check: matmul [2, 3] x [3, 2] ok\n");
    return 0;
}
