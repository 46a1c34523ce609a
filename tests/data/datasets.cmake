# Datasets: the sampler runs anywhere; the loader tests read small subsets that a fixture builds
# from Debian's packages (dataset-fashion-mnist, wordnet-base, espeak-ng) with scripts/data/,
# in a private OMNI_DATA under the build tree. The test target is spelled out rather than made
# by omni_add_test because its discovered tests need the fixture and the environment.
find_package(ZLIB REQUIRED)
find_program(OMNI_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(OMNI_PYTHON3 NAMES python3)
set(_omni_data ${CMAKE_CURRENT_BINARY_DIR}/omni_data)
set(_scripts ${PROJECT_SOURCE_DIR}/scripts/data)

add_test(NAME data_fashion_mnist COMMAND bash ${_scripts}/fashion_mnist.sh)
add_test(NAME data_wordnet_text COMMAND ${OMNI_PYTHON3} ${_scripts}/wordnet_text.py --count 300 --seed 1)
add_test(NAME data_spoken_words COMMAND ${OMNI_PYTHON3} ${_scripts}/spoken_words.py --count 20 --seed 1)
set_tests_properties(data_fashion_mnist data_wordnet_text data_spoken_words PROPERTIES
  FIXTURES_SETUP omni_data ENVIRONMENT OMNI_DATA=${_omni_data} TIMEOUT 300)

add_executable(datasets_test ${CMAKE_CURRENT_SOURCE_DIR}/datasets_test.cpp)
target_link_libraries(datasets_test PRIVATE omni::omni GTest::gtest GTest::gtest_main ZLIB::ZLIB)
target_compile_options(datasets_test PRIVATE -Wall -Wextra)
gtest_discover_tests(datasets_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED omni_data ENVIRONMENT OMNI_DATA=${_omni_data} TIMEOUT 300)
