# Image frontend: IDX (zlib for the gzip files Debian ships), PNG/JPEG through stb_image, and the
# transforms, whose torchvision parity case runs tests/data/image_reference.py with Debian's Python.
find_package(ZLIB REQUIRED)
omni_add_test(image_test ${CMAKE_CURRENT_SOURCE_DIR}/image_test.cpp)
target_link_libraries(image_test PRIVATE ZLIB::ZLIB)
target_compile_definitions(image_test PRIVATE OMNI_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                           OMNI_TORCH_PYTHON="${OMNI_TORCH_PYTHON}")
