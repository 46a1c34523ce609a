# JSON options files (train/options_file.hpp) read with rapidjson, which Debian's cereal also uses
# (rapidjson-dev in scripts/deps.sh).
find_path(OMNI_RAPIDJSON_INCLUDE_DIR rapidjson/reader.h)
if(OMNI_RAPIDJSON_INCLUDE_DIR)
  omni_add_test(options_file_test train/options_file_test.cpp)
  target_include_directories(options_file_test PRIVATE ${OMNI_RAPIDJSON_INCLUDE_DIR})
else()
  message(STATUS "omni: options_file_test skipped (needs rapidjson, Debian's rapidjson-dev)")
endif()
# Under UBSan (scripts/sanitize.sh): rapidjson 1.1's internal stack adds an offset to its null
# pointer before its first allocation, on every document: UB every compiler defines as expected,
# not omni's, and the one check the JSON fuzz harnesses skip too (tests/fuzz/CMakeLists.txt).
if(TARGET options_file_test AND CMAKE_CXX_FLAGS MATCHES "-fsanitize=[^ ]*undefined")
  target_compile_options(options_file_test PRIVATE -fno-sanitize=pointer-overflow)
endif()
