#pragma once
// Where the CPU definitions (kernel families, the cpu policy's strided copy and fill) are
// compiled. Header-only, the default: inline, into every translation unit that includes them.
// Compiled: a translation unit built with OMNI_KERNELS_PREBUILT (the omni::kernels target sets
// it) sees declarations only, and src/kernels/omni_kernels.cpp, which defines
// OMNI_KERNELS_BUILDING_LIBRARY, emits each definition once as an ordinary symbol.
#if defined(OMNI_KERNELS_BUILDING_LIBRARY)
#define OMNI_KERNELS_INLINE
#else
#define OMNI_KERNELS_INLINE inline
#endif

#if !defined(OMNI_KERNELS_PREBUILT) || defined(OMNI_KERNELS_BUILDING_LIBRARY)
#define OMNI_KERNELS_DEFINE 1
#else
#define OMNI_KERNELS_DEFINE 0
#endif
