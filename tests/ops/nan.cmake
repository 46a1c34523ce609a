# Numerics reliability: NaN, +-inf and -0.0 through every op family against PyTorch (Debian's
# python3-torch writes the float64 reference first, as the nan_parity fixture), anomaly mode, and
# bitwise determinism of CPU training (docs/reliability.md).
set(_nan_parity_dir ${CMAKE_CURRENT_BINARY_DIR}/parity_nan)
add_test(NAME nan_reference COMMAND ${OMNI_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/parity/nan_reference.py ${_nan_parity_dir})
set_tests_properties(nan_reference PROPERTIES FIXTURES_SETUP nan_parity TIMEOUT 300)
add_executable(nan_semantics_test ops/nan_semantics_test.cpp)
target_link_libraries(nan_semantics_test PRIVATE omni::omni GTest::gtest GTest::gtest_main)
target_compile_options(nan_semantics_test PRIVATE -Wall -Wextra)
gtest_discover_tests(nan_semantics_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED nan_parity ENVIRONMENT OMNI_NAN_PARITY_DIR=${_nan_parity_dir} TIMEOUT 300)
omni_add_test(anomaly_test autodiff/anomaly_test.cpp)
omni_add_test(determinism_test train/determinism_test.cpp)
