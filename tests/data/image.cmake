# Image frontend: IDX (zlib for the gzip files Debian ships), PNG/JPEG decoding, and the transforms,
# whose torchvision parity case runs tests/data/image_reference.py with Debian's Python. The suite
# is built twice where libjpeg-turbo is found: image_test decodes JPEG through it (omni::jpeg) and
# checks its pixels against PIL's (tests/data/jpeg_reference.py); image_stb_test is the same
# source with JPEG through stb_image, the decoder of a build without omni::jpeg.
find_package(ZLIB REQUIRED)
set(_image_tests image_test)
if(TARGET omni::jpeg)
  list(APPEND _image_tests image_stb_test)
endif()
foreach(t IN LISTS _image_tests)
  omni_add_test(${t} ${CMAKE_CURRENT_SOURCE_DIR}/image_test.cpp)
  target_link_libraries(${t} PRIVATE ZLIB::ZLIB)
  target_compile_definitions(${t} PRIVATE OMNI_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                             OMNI_TORCH_PYTHON="${OMNI_TORCH_PYTHON}")
endforeach()
if(TARGET omni::jpeg)
  target_link_libraries(image_test PRIVATE omni::jpeg)
endif()
