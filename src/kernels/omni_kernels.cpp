// The prebuilt omni::kernels library: every CPU kernel family, emitted once as ordinary
// (non-inline) symbols so that translation units compiled with OMNI_KERNELS_PREBUILT see only
// the declarations (omni/backend/cpu/kernels.hpp) and link against these.
#define OMNI_KERNELS_BUILDING_LIBRARY

#include "omni/backend/cpu.hpp"
