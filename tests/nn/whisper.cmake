# OmniVinci's audio path and projectors: Whisper log-mel, Conv1d, the Whisper audio encoder,
# mlp_downsample and the sound MLP. Parity against transformers (Qwen2AudioEncoder,
# WhisperFeatureExtractor) runs in the Hugging Face environment (omni_add_hf_reference).
omni_add_test(conv1d_test nn/conv1d_test.cpp)
omni_add_test(whisper_encoder_test nn/whisper_encoder_test.cpp)
omni_add_test(projector_test nn/projector_test.cpp)
omni_add_policy_suite(whisper_policy_test)  # the composition on every policy (no kernels of its own)

set(_whisper_parity_dir ${CMAKE_CURRENT_BINARY_DIR}/whisper_parity)
omni_add_hf_reference(whisper_reference ${CMAKE_CURRENT_SOURCE_DIR}/parity/whisper_reference.py ${_whisper_parity_dir} whisper_parity)
add_executable(whisper_parity_test parity/whisper_parity_test.cpp)
target_link_libraries(whisper_parity_test PRIVATE omni::omni GTest::gtest GTest::gtest_main)
target_compile_options(whisper_parity_test PRIVATE -Wall -Wextra)
gtest_discover_tests(whisper_parity_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED whisper_parity ENVIRONMENT OMNI_WHISPER_PARITY_DIR=${_whisper_parity_dir} TIMEOUT 600)

# The log-mel frontend needs FFTW (omni::fftw); without it these are skipped like the other audio tests.
if(TARGET omni::fftw)
  omni_add_test(whisper_mel_test data/whisper_mel_test.cpp)
  target_link_libraries(whisper_mel_test PRIVATE omni::fftw)
  add_executable(whisper_mel_parity_test parity/whisper_mel_parity_test.cpp)
  target_link_libraries(whisper_mel_parity_test PRIVATE omni::fftw GTest::gtest GTest::gtest_main)
  target_compile_options(whisper_mel_parity_test PRIVATE -Wall -Wextra)
  gtest_discover_tests(whisper_mel_parity_test DISCOVERY_TIMEOUT 60
    PROPERTIES FIXTURES_REQUIRED whisper_parity ENVIRONMENT OMNI_WHISPER_PARITY_DIR=${_whisper_parity_dir} TIMEOUT 600)
endif()
