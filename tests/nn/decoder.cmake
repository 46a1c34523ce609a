# Qwen2-family decoder: RMSNorm op and module, SwiGLU, grouped-query attention with RoPE, the
# causal attention offset, decoder layer, KV cache, Qwen2 model, generation, causal LM loss.
omni_add_test(rms_norm_test nn/rms_norm_test.cpp)
omni_add_test(decoder_test nn/decoder_test.cpp)
omni_add_test(generate_test nn/generate_test.cpp)
omni_add_policy_suite(rms_norm_policy_test)
omni_add_policy_suite(attention_offset_policy_test)


# Parity against transformers' Qwen2ForCausalLM / Qwen2DecoderLayer in float64.
set(_qwen2_dir ${CMAKE_CURRENT_BINARY_DIR}/parity_qwen2)
omni_add_hf_reference(qwen2_reference ${CMAKE_CURRENT_SOURCE_DIR}/parity/qwen2_reference.py ${_qwen2_dir} qwen2_parity)
add_executable(qwen2_parity_test parity/qwen2_parity_test.cpp)
target_link_libraries(qwen2_parity_test PRIVATE omni::omni GTest::gtest GTest::gtest_main)
target_compile_options(qwen2_parity_test PRIVATE -Wall -Wextra)
gtest_discover_tests(qwen2_parity_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED qwen2_parity ENVIRONMENT OMNI_QWEN2_PARITY_DIR=${_qwen2_dir} TIMEOUT 600)
