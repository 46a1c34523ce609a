# The zero-shot protocol around SAIL (train/zero_shot_protocol.hpp), on synthetic features.
omni_add_test(zero_shot_protocol_test train/zero_shot_protocol_test.cpp)
