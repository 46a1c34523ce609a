# omni::blas — hands large float32/float64 matmuls to the system BLAS (sgemm_/dgemm_) instead of
# Eigen (omni/backend/cpu/blas_gemm.hpp). Opt-in: only targets that link omni::blas get it; linking
# it also brings omni::omni. Debian: libopenblas0-openmp (or libblis4-openmp), which provides
# libblas.so.3 through the alternatives system.
#
# Include after the omni target exists. When no BLAS is found the target is not created, so callers
# can test `if(TARGET omni::blas)`.
include_guard(GLOBAL)

find_library(OMNI_BLAS_LIBRARY NAMES libblas.so.3 blas openblas)
if(OMNI_BLAS_LIBRARY)
  if(NOT TARGET omni::blas)
    add_library(omni::blas INTERFACE IMPORTED GLOBAL)
    set_target_properties(omni::blas PROPERTIES
      INTERFACE_COMPILE_DEFINITIONS OMNI_BLAS
      INTERFACE_LINK_LIBRARIES "${OMNI_BLAS_LIBRARY};omni::omni")
  endif()
  message(STATUS "omni: BLAS for omni::blas: ${OMNI_BLAS_LIBRARY}")
else()
  message(STATUS "omni: no BLAS found (Debian: libopenblas0-openmp); omni::blas is off")
endif()
