# Thread safety of the process-wide state the CPU kernels share (the OpenMP kernels, the FFTW plan
# cache, the frozen-weights cache), hammered from several std::threads. scripts/sanitize.sh --tsan
# builds it again under ThreadSanitizer.
if(TARGET omni::fftw)
  omni_add_test(thread_safety_test threads/thread_safety_test.cpp)
  target_link_libraries(thread_safety_test PRIVATE omni::fftw)
endif()
