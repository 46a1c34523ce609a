# The functional API through its umbrella alone (omni/ops.hpp), untaped and taped.
omni_add_test(functional_test ops/functional_test.cpp)
