// A tiny shared library over omni::io::to_dlpack / from_dlpack with a C interface, loaded by
// dlpack_interop.py through ctypes: Python hands DLManagedTensor pointers from and to
// torch.utils.dlpack and numpy, and asks this side what it sees (addresses, values, deleter calls).
// Each direction wraps the producer's deleter to count its calls, which must be exactly one.
#include <cstdint>
#include <string>

#include "omni/io/dlpack.hpp"
#include "omni/io/half.hpp"

namespace {
omni::Tensor<omni::cpu> exported, imported;
void (*export_deleter)(DLManagedTensor*) = nullptr;
void (*import_deleter)(DLManagedTensor*) = nullptr;
int export_deletes = 0, import_deletes = 0;
std::string last_error;

void count_export(DLManagedTensor* m) { ++export_deletes, export_deleter(m); }
void count_import(DLManagedTensor* m) { ++import_deletes, import_deleter(m); }

// Element offset of row-major index i in t's strided layout.
std::int64_t offset_of(const omni::Tensor<omni::cpu>& t, std::int64_t i) {
    std::int64_t off = 0;
    for (int a = t.dim() - 1; a >= 0; --a) off += (i % t.shape()[a]) * t.strides()[a], i /= t.shape()[a];
    return off;
}
double value_at(const omni::Tensor<omni::cpu>& t, std::int64_t i) {
    const std::int64_t off = offset_of(t, i);
    switch (t.type()) {
        case omni::dtype::f32: return static_cast<const float*>(t.raw_data())[off];
        case omni::dtype::f64: return static_cast<const double*>(t.raw_data())[off];
        case omni::dtype::i64: return static_cast<double>(static_cast<const std::int64_t*>(t.raw_data())[off]);
        case omni::dtype::f16: return omni::io::f16_to_float(static_cast<const std::uint16_t*>(t.raw_data())[off]);
        case omni::dtype::bf16: return static_cast<float>(static_cast<const omni::bf16*>(t.raw_data())[off]);
        default: return -1e300;
    }
}
}  // namespace

extern "C" {

// An omni tensor [rows, cols] holding 0, 1, 2, ... (kind 0: float32, 1: float16, 2: bfloat16),
// transposed when `transpose` (a strided export), handed out as a DLManagedTensor.
void* shim_export(std::int64_t rows, std::int64_t cols, int transpose, int kind) {
    omni::Tensor<omni::cpu> t = omni::Tensor<omni::cpu>::arange(rows * cols).view({rows, cols});
    if (kind == 1) t = omni::io::to_dtype(t, omni::dtype::f16);
    if (kind == 2) t = t.to(omni::dtype::bf16);
    exported = transpose ? t.transpose(0, 1) : t;
    DLManagedTensor* m = omni::io::to_dlpack(exported);
    export_deleter = m->deleter;
    m->deleter = count_export;
    return m;
}
void* shim_exported_data() { return exported.raw_data(); }
double shim_exported_at(std::int64_t i) { return value_at(exported, i); }
long shim_exported_use_count() { return exported.storage().use_count(); }
// Writes v at row-major index i of the exported view (float32).
void shim_exported_set(std::int64_t i, double v) {
    if (exported.type() == omni::dtype::f32) static_cast<float*>(exported.raw_data())[offset_of(exported, i)] = static_cast<float>(v);
}
void shim_drop_exported() { exported = {}; }
int shim_export_deletes() { return export_deletes; }

// Takes ownership of a producer's DLManagedTensor; 0 on success, -1 with shim_last_error().
int shim_import(void* p) {
    auto* m = static_cast<DLManagedTensor*>(p);
    import_deleter = m->deleter;
    m->deleter = count_import;
    try {
        imported = omni::io::from_dlpack(m);
        return 0;
    } catch (const omni::error& e) {
        last_error = e.what();
        return -1;
    }
}
const char* shim_last_error() { return last_error.c_str(); }
void* shim_imported_data() { return imported.raw_data(); }
const char* shim_imported_dtype() { return omni::name_of(imported.type()); }
std::int64_t shim_imported_stride(int axis) { return imported.strides()[axis]; }
double shim_imported_at(std::int64_t i) { return value_at(imported, i); }
// Writes v at row-major index i of the imported view (float32 or float64).
void shim_imported_set(std::int64_t i, double v) {
    const std::int64_t off = offset_of(imported, i);
    if (imported.type() == omni::dtype::f32) static_cast<float*>(imported.raw_data())[off] = static_cast<float>(v);
    if (imported.type() == omni::dtype::f64) static_cast<double*>(imported.raw_data())[off] = v;
}
void shim_drop_imported() { imported = {}; }
int shim_import_deletes() { return import_deletes; }

}  // extern "C"
