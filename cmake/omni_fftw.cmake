# omni::fftw — single-precision FFTW (libfftw3f) for the audio frontend (omni/data/audio/fbank.hpp).
# Opt-in like every heavy dependency: only targets that link omni::fftw need FFTW; omni::omni does
# not. Linking it also brings omni::omni.
#
# Include after the omni target exists (top-level CMakeLists.txt, after add_library(omni ...)).
# When FFTW is missing the target is not created and OMNI_FFTW_FOUND is OFF, so callers can test
# `if(TARGET omni::fftw)` and skip the audio targets. Debian: apt-get install libfftw3-dev.
include_guard(GLOBAL)

# pkg-config knows where a non-system FFTW lives; its answers only serve as hints to find_*, so
# the target carries absolute paths and does not depend on a PkgConfig:: imported target.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(_omni_fftw3f QUIET fftw3f)
endif()
find_path(OMNI_FFTW_INCLUDE_DIR fftw3.h HINTS ${_omni_fftw3f_INCLUDE_DIRS})
find_library(OMNI_FFTW3F_LIBRARY NAMES fftw3f HINTS ${_omni_fftw3f_LIBRARY_DIRS})

if(OMNI_FFTW_INCLUDE_DIR AND OMNI_FFTW3F_LIBRARY)
  set(OMNI_FFTW_FOUND ON)
  if(NOT TARGET omni::fftw)
    add_library(omni::fftw INTERFACE IMPORTED GLOBAL)
    set_target_properties(omni::fftw PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${OMNI_FFTW_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${OMNI_FFTW3F_LIBRARY};omni::omni")
  endif()
  message(STATUS "omni: FFTW single precision: ${OMNI_FFTW3F_LIBRARY}")
else()
  set(OMNI_FFTW_FOUND OFF)
  message(STATUS "omni: libfftw3f not found (Debian: libfftw3-dev); omni::fftw and the audio targets are off")
endif()
