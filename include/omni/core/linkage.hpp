#pragma once
// Where the library's non-template code above the kernels (data/ readers' helpers, augmentation,
// tokenisation, the probe and SAIL trainers) and the Omni-C preset's instantiations are
// compiled. Header-only, the default: inline, into every translation unit that uses them.
// Compiled: a translation unit built with OMNI_KERNELS_PREBUILT (the omni::kernels target sets
// it) sees declarations only, and src/kernels/omni_library.cpp, which defines
// OMNI_LIBRARY_BUILDING, emits each definition once. The CPU kernels have the same split of their
// own (policy/cpu_linkage.hpp), so the library's two sources never define a symbol twice.
//
// A function that takes part is written once, declaration and definition together:
//   OMNI_LIB_INLINE double top1(const std::vector<std::int64_t>& pred, const Tensor<cpu>& labels)
//   #if OMNI_LIB_DEFINE
//   { ... }
//   #else
//   ;
//   #endif
#if defined(OMNI_LIBRARY_BUILDING)
#define OMNI_LIB_INLINE
#define OMNI_LIB_DEFINE 1
#define OMNI_LIB_EXTERN 0
#elif defined(OMNI_KERNELS_PREBUILT)
#define OMNI_LIB_INLINE
#define OMNI_LIB_DEFINE 0
#define OMNI_LIB_EXTERN 1  // `extern template` of the presets that omni::kernels instantiates
#else
#define OMNI_LIB_INLINE inline
#define OMNI_LIB_DEFINE 1
#define OMNI_LIB_EXTERN 0
#endif

// The same for the parts that need a library beyond the C++ runtime: the audio features (FFTW)
// and the IDX reader (zlib). omni::kernels compiles them (src/kernels/omni_fftw.cpp,
// omni_zlib.cpp) only where it finds that library, and then tells its users so with
// OMNI_KERNELS_FFTW / OMNI_KERNELS_ZLIB; without them a prebuilt user compiles those parts inline.
#if defined(OMNI_LIBRARY_BUILDING_FFTW)
#define OMNI_FFTW_INLINE
#define OMNI_FFTW_DEFINE 1
#elif defined(OMNI_KERNELS_PREBUILT) && defined(OMNI_KERNELS_FFTW)
#define OMNI_FFTW_INLINE
#define OMNI_FFTW_DEFINE 0
#else
#define OMNI_FFTW_INLINE inline
#define OMNI_FFTW_DEFINE 1
#endif

#if defined(OMNI_LIBRARY_BUILDING_ZLIB)
#define OMNI_ZLIB_INLINE
#define OMNI_ZLIB_DEFINE 1
#elif defined(OMNI_KERNELS_PREBUILT) && defined(OMNI_KERNELS_ZLIB)
#define OMNI_ZLIB_INLINE
#define OMNI_ZLIB_DEFINE 0
#else
#define OMNI_ZLIB_INLINE inline
#define OMNI_ZLIB_DEFINE 1
#endif
