#!/usr/bin/env python3
"""DLPack between omni and PyTorch / NumPy without a copy (ctest `dlpack_interop`).

Loads tests/io/dlpack_shim.cpp's shared library (path in argv[1]) with ctypes. omni -> torch and
numpy: the shim's DLManagedTensor goes into a PyCapsule named "dltensor" for
torch.utils.dlpack.from_dlpack and np.from_dlpack; the framework's view must have omni's address,
and a write through it must be seen by omni. torch -> omni: torch.utils.dlpack.to_dlpack's capsule
pointer goes to omni::io::from_dlpack (the capsule renamed "used_dltensor", as a consumer does);
omni's write must be seen by torch. In both directions the producer's deleter runs exactly once,
after the last consumer view goes. Needs Debian's python3 with torch 1.13 and numpy.
"""
import ctypes
import gc
import sys

import numpy as np
import torch
from torch.utils import dlpack

lib = ctypes.CDLL(sys.argv[1])
for name, res, args in [
    ("shim_export", ctypes.c_void_p, [ctypes.c_int64, ctypes.c_int64, ctypes.c_int, ctypes.c_int]),
    ("shim_exported_data", ctypes.c_void_p, []), ("shim_exported_at", ctypes.c_double, [ctypes.c_int64]),
    ("shim_exported_use_count", ctypes.c_long, []), ("shim_exported_set", None, [ctypes.c_int64, ctypes.c_double]), ("shim_drop_exported", None, []), ("shim_export_deletes", ctypes.c_int, []),
    ("shim_import", ctypes.c_int, [ctypes.c_void_p]), ("shim_last_error", ctypes.c_char_p, []),
    ("shim_imported_data", ctypes.c_void_p, []), ("shim_imported_dtype", ctypes.c_char_p, []),
    ("shim_imported_stride", ctypes.c_int64, [ctypes.c_int]), ("shim_imported_at", ctypes.c_double, [ctypes.c_int64]),
    ("shim_imported_set", None, [ctypes.c_int64, ctypes.c_double]), ("shim_drop_imported", None, []),
    ("shim_import_deletes", ctypes.c_int, []),
]:
    getattr(lib, name).restype = res
    getattr(lib, name).argtypes = args

capsule_new = ctypes.pythonapi.PyCapsule_New
capsule_new.restype, capsule_new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
capsule_pointer.restype, capsule_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
capsule_rename = ctypes.pythonapi.PyCapsule_SetName
capsule_rename.restype, capsule_rename.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]

checks = 0


def check(cond, what):
    global checks
    if not cond:
        raise SystemExit(f"dlpack_interop: FAILED: {what}")
    checks += 1


def omni_capsule(rows, cols, transpose=0, kind=0):
    # No capsule destructor: the consumer renames it "used_dltensor" and owns the pointer.
    return capsule_new(lib.shim_export(rows, cols, transpose, kind), b"dltensor", None)


class Exported:
    """What np.from_dlpack asks for: __dlpack__ and __dlpack_device__ (kDLCPU, 0)."""
    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, stream=None):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)


def omni_to_torch():
    deletes = lib.shim_export_deletes()
    t = dlpack.from_dlpack(omni_capsule(2, 3))
    check(t.data_ptr() == lib.shim_exported_data(), "torch's view has omni's address")
    check(lib.shim_exported_use_count() == 2, "the export holds one reference to omni's storage")
    check(t.tolist() == [[0, 1, 2], [3, 4, 5]], "torch reads omni's values")
    t[1, 2] = 42.0
    check(lib.shim_exported_at(5) == 42.0, "omni sees torch's write")
    lib.shim_drop_exported()  # omni's own handle goes first: the export still holds the storage
    check(t[1, 2].item() == 42.0 and t[0, 1].item() == 1.0, "the storage outlives omni's handle")
    check(lib.shim_export_deletes() == deletes, "no deleter call while torch holds the view")
    view = t[:, 1:]  # a torch view of the view: the deleter waits for it too
    del t
    gc.collect()
    check(lib.shim_export_deletes() == deletes, "no deleter call while a torch view of the view lives")
    del view
    gc.collect()
    check(lib.shim_export_deletes() == deletes + 1, "deleter called exactly once after the last torch view")

    # A strided export (omni's transpose): torch gets the strides, not a copy.
    t = dlpack.from_dlpack(omni_capsule(2, 3, transpose=1))
    check(t.shape == (3, 2) and t.stride() == (1, 3), f"torch sees omni's strides, got {t.stride()}")
    check(t.data_ptr() == lib.shim_exported_data(), "strided view: same address")
    t[2, 0] = -7.0  # omni's element [2, 0] of the transposed view, row-major index 4
    check(lib.shim_exported_at(4) == -7.0, "omni sees a write through torch's strided view")
    del t
    gc.collect()
    check(lib.shim_export_deletes() == deletes + 2, "strided export: deleter called once")

    for kind, dt in [(1, torch.float16), (2, torch.bfloat16)]:
        t = dlpack.from_dlpack(omni_capsule(2, 2, kind=kind))
        check(t.dtype == dt and t.tolist() == [[0, 1], [2, 3]], f"{dt} export")
        t[0, 0] = 1.5
        check(lib.shim_exported_at(0) == 1.5, f"{dt}: omni sees torch's write")
        del t
        gc.collect()
    check(lib.shim_export_deletes() == deletes + 4, "half exports: one deleter call each")


def omni_to_numpy():
    deletes = lib.shim_export_deletes()
    a = np.from_dlpack(Exported(omni_capsule(3, 2)))
    check(a.ctypes.data == lib.shim_exported_data(), "numpy's view has omni's address")
    check(a.tolist() == [[0, 1], [2, 3], [4, 5]], "numpy reads omni's values")
    if not a.flags.writeable:
        try:  # numpy 1.x marks DLPack imports read-only; the memory itself is writable
            a.setflags(write=True)
        except ValueError:
            pass
    if a.flags.writeable:
        a[2, 1] = 9.5
        check(lib.shim_exported_at(5) == 9.5, "omni sees numpy's write")
    else:
        print(f"numpy {np.__version__} marks DLPack imports read-only: numpy's own write is not tested")
    lib.shim_exported_set(0, -2.5)
    check(a[0, 0] == -2.5, "numpy sees omni's write")
    del a
    gc.collect()
    check(lib.shim_export_deletes() == deletes + 1, "numpy: deleter called exactly once")


def torch_to_omni(x, expect_dtype):
    deletes = lib.shim_import_deletes()
    cap = dlpack.to_dlpack(x)
    ptr = capsule_pointer(cap, b"dltensor")
    capsule_rename(cap, b"used_dltensor")  # consumed: torch's capsule destructor leaves it alone now
    rc = lib.shim_import(ptr)
    if expect_dtype is None:
        check(rc == -1, "omni refuses the dtype")
        check(lib.shim_import_deletes() == deletes + 1, "refused import: deleter called exactly once")
        return lib.shim_last_error().decode()
    check(rc == 0, f"import failed: {lib.shim_last_error().decode() if rc else ''}")
    check(lib.shim_imported_dtype().decode() == expect_dtype, f"dtype {expect_dtype}")
    check(lib.shim_imported_data() == x.data_ptr(), "omni's view has torch's address")
    return None


def torch_to_omni_all():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    x = base[:, 1:3]  # strided, with an offset into the storage
    deletes = lib.shim_import_deletes()
    torch_to_omni(x, "float32")
    check([lib.shim_imported_stride(i) for i in range(2)] == [4, 1], "omni sees torch's strides")
    check([lib.shim_imported_at(i) for i in range(6)] == [1, 2, 5, 6, 9, 10], "omni reads torch's values")
    lib.shim_imported_set(3, 99.0)  # [1, 1] of the view: base[1, 2]
    check(base[1, 2].item() == 99.0 and x[1, 1].item() == 99.0, "torch sees omni's write")
    check(lib.shim_import_deletes() == deletes, "no deleter call while omni holds the view")
    lib.shim_drop_imported()
    check(lib.shim_import_deletes() == deletes + 1, "deleter called exactly once when omni's last view goes")
    check(base[1, 2].item() == 99.0, "torch's tensor lives on")

    t = torch.tensor([[1.0, 2.0]], dtype=torch.float64).t()  # [2, 1], strides (1, 2)
    torch_to_omni(t, "float64")
    lib.shim_imported_set(1, -3.0)
    check(t[1, 0].item() == -3.0, "float64: torch sees omni's write")
    lib.shim_drop_imported()
    for dt, name in [(torch.float16, "float16"), (torch.bfloat16, "bfloat16"), (torch.int64, "int64")]:
        v = torch.tensor([0.5, 2.0, -4.0]).to(dt)
        torch_to_omni(v, name)
        check([lib.shim_imported_at(i) for i in range(3)] == v.double().tolist(), f"{name} values")
        lib.shim_drop_imported()
    try:  # torch 1.13 refuses to export bool; later versions send kDLBool, which omni reads as bool
        dlpack.to_dlpack(torch.tensor([True]))
        torch_to_omni(torch.tensor([True, False]), "bool")
        lib.shim_drop_imported()
    except RuntimeError as e:
        print(f"torch {torch.__version__} exports no bool tensors ({e}): not tested")
    err = torch_to_omni(torch.tensor([1, 2], dtype=torch.uint8), None)
    check("dtype_error" in err and "from_dlpack" in err, f"uint8 is a dtype_error naming from_dlpack: {err}")


omni_to_torch()
omni_to_numpy()
torch_to_omni_all()
print(f"dlpack_interop: torch {torch.__version__}, numpy {np.__version__}: {checks} passed, 0 failed")
