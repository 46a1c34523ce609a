# omni::jpeg — JPEG decoding through libjpeg-turbo instead of stb_image (omni/data/image/decode.hpp,
# image/jpeg_turbo.hpp). Opt-in like every heavy dependency: linking omni::jpeg links libjpeg and
# defines OMNI_WITH_LIBJPEG, which must then hold for every translation unit of the program that
# includes decode.hpp (it changes an inline function). Linking it also brings omni::omni.
#
# Include after the omni target exists. Needs libjpeg-turbo 2.x or later (its JCS_EXT_* colour
# spaces): plain IJG libjpeg is not taken. When none is found the target is not created and
# OMNI_JPEG_FOUND is OFF; JPEG then decodes through stb_image. Debian: apt-get install libjpeg-dev.
include_guard(GLOBAL)
include(CheckCXXSymbolExists)

find_package(JPEG QUIET)
set(OMNI_JPEG_FOUND OFF)
if(JPEG_FOUND)
  set(CMAKE_REQUIRED_INCLUDES ${JPEG_INCLUDE_DIRS})
  set(CMAKE_REQUIRED_QUIET ON)
  check_cxx_symbol_exists(JCS_EXTENSIONS "cstdio;jpeglib.h" OMNI_LIBJPEG_IS_TURBO)
  unset(CMAKE_REQUIRED_INCLUDES)
  unset(CMAKE_REQUIRED_QUIET)
  if(OMNI_LIBJPEG_IS_TURBO)
    set(OMNI_JPEG_FOUND ON)
  endif()
endif()

if(OMNI_JPEG_FOUND)
  if(NOT TARGET omni::jpeg)
    add_library(omni::jpeg INTERFACE IMPORTED GLOBAL)
    set_target_properties(omni::jpeg PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${JPEG_INCLUDE_DIRS}"
      INTERFACE_LINK_LIBRARIES "${JPEG_LIBRARIES};omni::omni"
      INTERFACE_COMPILE_DEFINITIONS OMNI_WITH_LIBJPEG)
  endif()
  message(STATUS "omni: libjpeg-turbo: ${JPEG_LIBRARIES}")
else()
  message(STATUS "omni: libjpeg-turbo not found (Debian: libjpeg-dev); omni::jpeg is off, JPEG decodes through stb_image")
endif()
