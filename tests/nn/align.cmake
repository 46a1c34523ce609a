# OmniVinci's Temporal Embedding Grouping and OmniAlignNet (+ its alignment loss).
omni_add_test(teg_test nn/teg_test.cpp)
omni_add_test(omni_align_net_test nn/omni_align_net_test.cpp)

# Parity: tests/parity/align_reference.py (plain torch: a transcription of the released TEG code
# and of OmniAlignNet) writes the references, then the C++ side must match them.
set(_align_parity_dir ${CMAKE_CURRENT_BINARY_DIR}/parity_align)
add_test(NAME align_reference COMMAND ${OMNI_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/parity/align_reference.py ${_align_parity_dir})
set_tests_properties(align_reference PROPERTIES FIXTURES_SETUP align_parity TIMEOUT 600)
add_executable(align_parity_test parity/align_parity_test.cpp)
target_link_libraries(align_parity_test PRIVATE omni::omni GTest::gtest GTest::gtest_main)
target_compile_options(align_parity_test PRIVATE -Wall -Wextra)
gtest_discover_tests(align_parity_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED align_parity ENVIRONMENT OMNI_ALIGN_PARITY_DIR=${_align_parity_dir} TIMEOUT 600)
