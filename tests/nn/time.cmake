# Rotary op family, CRTE and RoPE (OmniVinci time embeddings).
omni_add_test(time_test nn/time_test.cpp)
omni_add_policy_suite(rotary_policy_test)

# Parity: CRTE against the paper formula and the released class (plain torch transcriptions),
# RoPE against transformers' Qwen2 code, in the Hugging Face environment.
set(_time_parity_dir ${CMAKE_CURRENT_BINARY_DIR}/parity_time)
omni_add_hf_reference(time_reference ${CMAKE_CURRENT_SOURCE_DIR}/parity/time_reference.py ${_time_parity_dir} time_parity)
add_executable(time_parity_test parity/time_parity_test.cpp)
target_link_libraries(time_parity_test PRIVATE omni::omni GTest::gtest GTest::gtest_main)
target_compile_options(time_parity_test PRIVATE -Wall -Wextra)
gtest_discover_tests(time_parity_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED time_parity ENVIRONMENT OMNI_TIME_PARITY_DIR=${_time_parity_dir} TIMEOUT 600)
