// The prebuilt omni::kernels library, the part that needs FFTW (built where CMake finds it):
// filter banks and the audio frontend (core/linkage.hpp, OMNI_FFTW_*). Users see declarations
// when the library defines OMNI_KERNELS_FFTW.
#define OMNI_LIBRARY_BUILDING_FFTW

#include "omni/data/audio/fbank.hpp"
#include "omni/data/audio/frontend.hpp"
