# Audio frontend tests (omni/data/audio): unit tests and the torchaudio parity. They link omni::fftw
# (cmake/omni_fftw.cmake) and are skipped when it does not exist.
if(NOT TARGET omni::fftw)
  message(STATUS "omni: no omni::fftw target; audio tests skipped")
  return()
endif()

omni_add_test(audio_test audio_test.cpp)
target_link_libraries(audio_test PRIVATE omni::fftw)

# torchaudio parity: Debian's python3-torchaudio computes the references (float64 and float32) on
# speech synthesised by espeak-ng, then the gtest compares omni with them.
set(_audio_parity_dir ${CMAKE_CURRENT_BINARY_DIR}/audio_parity)
add_test(NAME audio_parity_reference
  COMMAND ${OMNI_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/../parity/fbank_reference.py ${_audio_parity_dir})
set_tests_properties(audio_parity_reference PROPERTIES FIXTURES_SETUP audio_parity TIMEOUT 600)
add_executable(audio_parity_test audio_parity_test.cpp)
target_link_libraries(audio_parity_test PRIVATE omni::fftw GTest::gtest GTest::gtest_main)
target_compile_options(audio_parity_test PRIVATE -Wall -Wextra)
gtest_discover_tests(audio_parity_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED audio_parity ENVIRONMENT OMNI_AUDIO_PARITY_DIR=${_audio_parity_dir} TIMEOUT 600)
