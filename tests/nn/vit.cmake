# timm-layout VisionTransformer, io::load_weights' prefix rules, the per-layer umbrella headers.
# Parity against timm's VisionTransformer runs in the Hugging Face environment (omni_add_hf_reference).
omni_add_test(vision_transformer_test nn/vision_transformer_test.cpp)
omni_add_test(weights_test io/weights_test.cpp)

set(_vit_parity_dir ${CMAKE_CURRENT_BINARY_DIR}/vit_parity)
omni_add_hf_reference(vit_reference ${CMAKE_CURRENT_SOURCE_DIR}/parity/vit_reference.py ${_vit_parity_dir} vit_parity)
add_executable(vit_parity_test parity/vit_parity_test.cpp)
target_link_libraries(vit_parity_test PRIVATE omni::omni GTest::gtest GTest::gtest_main)
target_compile_options(vit_parity_test PRIVATE -Wall -Wextra)
gtest_discover_tests(vit_parity_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED vit_parity ENVIRONMENT OMNI_VIT_PARITY_DIR=${_vit_parity_dir} TIMEOUT 600)

# Each per-layer umbrella header in a translation unit of its own, included first.
add_executable(umbrella_header_test umbrella/nn_header_test.cpp umbrella/data_header_test.cpp umbrella/io_header_test.cpp)
target_link_libraries(umbrella_header_test PRIVATE omni::omni GTest::gtest GTest::gtest_main)
target_compile_options(umbrella_header_test PRIVATE -Wall -Wextra)
gtest_discover_tests(umbrella_header_test DISCOVERY_TIMEOUT 60)
