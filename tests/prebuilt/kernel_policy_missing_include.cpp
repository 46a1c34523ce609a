// Must NOT compile (ctest kernel_policy_missing_include expects the one line below): the tensor
// ops are included, the CPU backend is not, and the assertion names what is missing.
#include "omni/backend/elementwise.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/policy/kernel_families.hpp"

static_assert(omni::kernel_policy<omni::cpu>, "omni::cpu has no kernels here: include omni/backend/cpu.hpp");

int main() { return 0; }
