// The prebuilt omni::kernels library, the part that needs zlib (built where CMake finds it): the
// IDX reader and the Fashion-MNIST loader on it (core/linkage.hpp, OMNI_ZLIB_*). Users see
// declarations when the library defines OMNI_KERNELS_ZLIB.
#define OMNI_LIBRARY_BUILDING_ZLIB

#include "omni/data/image/idx.hpp"
#include "omni/data/sets/fashion_mnist.hpp"
