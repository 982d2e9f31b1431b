"""bnb8 from Python through ctypes only (no SWIG module, no torch): the C ABI as any FFI sees it.

Usage: ctypes_quickstart.py [path/to/libbnb8.so]"""
import ctypes
import sys

import numpy as np

lib = ctypes.CDLL(sys.argv[1] if len(sys.argv) > 1 else "libbnb8.so.0")
lib.bnb_last_error_message.restype = ctypes.c_char_p
lib.bnb_version_string.restype = ctypes.c_char_p


class Config(ctypes.Structure):
    """The first fields of bnb_optimizer_config. struct_size tells the library how many we have; every
    later field keeps its default, which is how programs built against older headers keep working."""
    _fields_ = [("struct_size", ctypes.c_size_t), ("algorithm", ctypes.c_int32), ("optim_bits", ctypes.c_int32),
                ("lr", ctypes.c_double)]


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("numel", ctypes.c_int64), ("dtype", ctypes.c_int32),
                ("device", ctypes.c_int32)]


def check(status):
    if status != 0:
        raise RuntimeError(lib.bnb_last_error_message().decode())


BNB_ALGO_ADAMW, BNB_DTYPE_F32, BNB_DEVICE_CPU = 2, 1, -1
weights = np.random.default_rng(0).standard_normal(1 << 16).astype(np.float32)
grads = np.zeros_like(weights)

config = Config(ctypes.sizeof(Config), BNB_ALGO_ADAMW, 8, 1e-3)  # 8-bit states, lr 1e-3
optimizer = ctypes.c_void_p()
check(lib.bnb_optimizer_create(ctypes.byref(config), ctypes.byref(optimizer)))
try:
    w = Tensor(weights.ctypes.data, weights.size, BNB_DTYPE_F32, BNB_DEVICE_CPU)
    g = Tensor(grads.ctypes.data, grads.size, BNB_DTYPE_F32, BNB_DEVICE_CPU)
    check(lib.bnb_optimizer_add_param(optimizer, ctypes.c_int64(0), ctypes.byref(w), ctypes.byref(g), None))
    for step in range(10):
        grads[:] = 2 * weights  # the gradient of sum(w^2)
        check(lib.bnb_step(optimizer))
    state_bytes = ctypes.c_int64()
    check(lib.bnb_optimizer_state_bytes(optimizer, ctypes.byref(state_bytes)))
    print(f"bnb8 {lib.bnb_version_string().decode()}: sum(w^2) = {float((weights ** 2).sum()):.1f} after 10 "
          f"steps, {state_bytes.value / weights.size:.2f} state bytes per parameter")
finally:
    lib.bnb_optimizer_destroy(optimizer)
