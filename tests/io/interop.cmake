# Interop (docs/interop.md): safetensors mapped and half-precision, name maps, DLPack (in C++ and
# through Python: torch 1.13 and numpy via ctypes), xtensor views, and checkpoints written by timm,
# open_clip and transformers loaded through their name maps.
omni_add_test(interop_test io/interop_test.cpp)
omni_add_test(xtensor_view_test io/xtensor_view_test.cpp)

# DLPack through Python: a shared library with a C interface that dlpack_interop.py loads.
add_library(omni_dlpack_shim SHARED io/dlpack_shim.cpp)
target_link_libraries(omni_dlpack_shim PRIVATE omni::omni)
target_compile_options(omni_dlpack_shim PRIVATE -Wall -Wextra)
add_test(NAME dlpack_interop COMMAND ${OMNI_TORCH_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/io/dlpack_interop.py $<TARGET_FILE:omni_dlpack_shim>)
set_tests_properties(dlpack_interop PROPERTIES TIMEOUT 300)

# Checkpoints written by the real libraries (tests/io/name_map_reference.py in the hf_deps.sh
# environment), loaded through name maps and checked against the reference modules' outputs.
set(_name_map_dir ${CMAKE_CURRENT_BINARY_DIR}/name_map_parity)
omni_add_hf_reference(name_map_reference ${CMAKE_CURRENT_SOURCE_DIR}/io/name_map_reference.py ${_name_map_dir} name_map_parity)
add_executable(name_map_parity_test io/name_map_parity_test.cpp)
target_link_libraries(name_map_parity_test PRIVATE omni::omni GTest::gtest GTest::gtest_main)
target_compile_options(name_map_parity_test PRIVATE -Wall -Wextra)
gtest_discover_tests(name_map_parity_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED name_map_parity ENVIRONMENT OMNI_NAME_MAP_DIR=${_name_map_dir} TIMEOUT 600)
