# Tensor::to<Q>(): moves between policies (the CUDA case is in tests/policy/policy_test.cpp).
omni_add_test(device_move_test tensor/device_move_test.cpp)
