# OmniVinci's staged training and QA evaluation (train/omnivinci.hpp) on the tiny clip set the
# av_clips fixture of tests/data/av_clips.cmake generates.
find_package(ZLIB)
if(TARGET omni::fftw AND ZLIB_FOUND)
  add_executable(omnivinci_train_test train/omnivinci_train_test.cpp)
  target_link_libraries(omnivinci_train_test PRIVATE omni::omni omni::fftw ZLIB::ZLIB GTest::gtest GTest::gtest_main)
  target_compile_options(omnivinci_train_test PRIVATE -Wall -Wextra)
  gtest_discover_tests(omnivinci_train_test DISCOVERY_TIMEOUT 60
    PROPERTIES FIXTURES_REQUIRED av_clips ENVIRONMENT "OMNI_AV_CLIPS_DIR=${CMAKE_BINARY_DIR}/tests/data/av_clips/a;OMP_WAIT_POLICY=passive" TIMEOUT 600)
endif()
