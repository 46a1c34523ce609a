// omni/data.hpp compiles on its own, without FFTW, zlib or stb on the include path's demands
// (the heavy parts stay opt-in by include).
#include "omni/data.hpp"
// (the umbrella above must stand alone)
#include <gtest/gtest.h>

#ifdef ZLIB_H
#error "omni/data.hpp must not pull in zlib"
#endif
#ifdef FFTW3_H
#error "omni/data.hpp must not pull in FFTW"
#endif

TEST(UmbrellaHeaders, DataHoldsTheDependencyFreeParts) {
    const std::vector<float> x(160, 1.0f);
    EXPECT_EQ(omni::data::resample(x, 16000, 8000).size(), 80u);
    const auto img = omni::Tensor<omni::cpu>::full({3, 4, 6}, 0.5);
    EXPECT_EQ(omni::data::resize(img, 2, 3).shape(), omni::Shape({3, 2, 3}));
}
