# Audio-visual-temporal clips (scripts/data/av_clips.py, omni/data/av_clips.hpp). Two fixture runs
# of the generator with the same seed write a tiny set twice (a/ and b/: the test compares their
# bytes); they need Fashion-MNIST from the omni_data fixture of datasets.cmake, and espeak-ng.
if(NOT DEFINED _omni_data OR NOT DEFINED _scripts)
  message(STATUS "omni: datasets.cmake did not run; av_clips tests skipped")
  return()
endif()
set(_av_clips ${CMAKE_CURRENT_BINARY_DIR}/av_clips)
foreach(copy a b)
  add_test(NAME data_av_clips_${copy}
    COMMAND ${OMNI_PYTHON3} ${_scripts}/av_clips.py --out ${_av_clips}/${copy} --train 6 --val 2 --test 2 --seed 3)
endforeach()
set_tests_properties(data_av_clips_a data_av_clips_b PROPERTIES
  FIXTURES_SETUP av_clips FIXTURES_REQUIRED omni_data ENVIRONMENT OMNI_DATA=${_omni_data} TIMEOUT 300)

add_executable(av_clips_test ${CMAKE_CURRENT_SOURCE_DIR}/av_clips_test.cpp)
target_link_libraries(av_clips_test PRIVATE omni::omni GTest::gtest GTest::gtest_main ZLIB::ZLIB)
target_compile_options(av_clips_test PRIVATE -Wall -Wextra)
gtest_discover_tests(av_clips_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED av_clips ENVIRONMENT OMNI_AV_CLIPS_DIR=${_av_clips} TIMEOUT 300)
