"""Issue 13 (Python): no view of library memory ever reads or writes freed memory, and a closed
optimizer, a meta tensor or a hostile checkpoint step gives a clear error.

Views (bnb8.Optimizer.state_arrays, bnb8.optim's optimizer.state tensors) keep the library's memory
alive: close() frees at once when no view is alive, and otherwise when the last view is released. The
tests watch the native handle (SWIG's `this`): it must stay while a view exists, and go with the last
one. Before the fix, close() freed the states under live views (a read after close was a
use-after-free that ASan reports) and every method of a closed optimizer raised SWIG's TypeError."""
import gc
import io

import numpy as np
import pytest

import bnb8

torch = pytest.importorskip("torch", reason="Debian's python3-torch is needed for bnb8.optim")
import bnb8.optim as optim  # noqa: E402


def stepped_numpy_optimizer():
    opt = bnb8.Optimizer("adam", lr=1e-2, optim_bits=8, min_8bit_size=0)
    param = np.linspace(-1, 1, 4096, dtype=np.float32)
    grad = np.linspace(1, -1, 4096, dtype=np.float32)
    opt.add_param(param, grad)
    opt.step()
    return opt


def test_close_frees_at_once_without_views():
    opt = stepped_numpy_optimizer()
    opt.close()
    assert opt.closed and opt.this is None
    opt.close()  # idempotent


def test_views_keep_the_memory_until_the_last_one_goes():
    opt = stepped_numpy_optimizer()
    arrays = opt.state_arrays(0, 1)
    second = opt.state_arrays(0, 2)["data"]
    codes, scales = arrays["data"].copy(), arrays["absmax"].copy()
    opt.close()
    assert opt.closed
    assert opt.this is not None  # not freed under the views
    np.testing.assert_array_equal(arrays["data"], codes)  # still the optimizer's memory, still valid
    np.testing.assert_array_equal(arrays["absmax"], scales)
    del arrays
    gc.collect()
    assert opt.this is not None  # `second` still views it
    assert second.sum() > 0
    del second
    gc.collect()
    assert opt.this is None  # freed with the last view


def test_torch_state_tensors_outlive_close():
    params = [torch.nn.Parameter(torch.randn(64, 64))]
    opt = optim.Adam8bit(params, lr=1e-3)
    params[0].grad = torch.randn(64, 64)
    opt.step()
    state1 = opt.state[params[0]]["state1"]
    saved = opt.state_dict()["state"][0]["__bnb_optimizer_quant_state__"]["absmax1"]
    codes = state1.clone()
    native = opt._native
    opt.close()
    assert native.this is not None
    assert torch.equal(state1, codes)
    state1.add_(0)  # writing is valid memory too
    with pytest.raises(ValueError, match=r"step\(\) on a closed bnb8 optimizer"):
        opt.step()
    with pytest.raises(ValueError, match="closed"):
        opt.state_dict()
    del state1, saved
    gc.collect()
    assert native.this is None


def test_every_method_of_a_closed_optimizer_raises_a_clear_error():
    opt = stepped_numpy_optimizer()
    opt.close()
    for call in (opt.step, lambda: opt.param_info(0), opt.to_bytes, lambda: opt.state(0), lambda: opt.add_group(),
                 lambda: opt.set_hparam("lr", 0.1), lambda: opt.add_param(np.zeros(4, np.float32))):
        with pytest.raises(ValueError, match="closed bnb8 optimizer"):
            call()


def test_meta_tensors_are_refused_by_name():
    opt = bnb8.Optimizer("adamw")
    with pytest.raises(ValueError, match=r"param is a tensor on the 'meta' device"):
        opt.add_param(torch.empty(16, device="meta"))
    with pytest.raises(ValueError, match=r"grad is a tensor on the 'meta' device"):
        opt.add_param(torch.zeros(16), torch.empty(16, device="meta"))
    p = torch.nn.Parameter(torch.empty(16, device="meta"))
    drop_in = optim.AdamW(p for p in [p])
    p.grad = torch.empty(16, device="meta")
    with pytest.raises(ValueError, match="meta"):
        drop_in.step()


# ---- hostile step counters through load_state_dict -------------------------------------------------

def saved_adam(step):
    params = [torch.nn.Parameter(torch.randn(300))]
    opt = optim.Adam32bit(params)
    params[0].grad = torch.randn(300)
    opt.step()
    state = opt.state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    state = torch.load(buffer)
    state["state"][0]["step"] = step
    return params, state


@pytest.mark.parametrize("step", [-1, 2 ** 63, 1.5, float("nan"), "3", None])
def test_malformed_step_counters_are_refused_by_python(step):
    params, state = saved_adam(0)
    state["state"][0]["step"] = step
    opt = optim.Adam32bit(params)
    with pytest.raises(ValueError, match=r"state\[0\]\.step"):
        opt.load_state_dict(state)
    assert not opt.state  # nothing changed


def test_int64_max_step_counter_is_refused_by_the_library():
    # Python passes it through (it fits an int64); the library bounds it (BNB_ERR_BAD_FORMAT -> RuntimeError).
    params, state = saved_adam(2 ** 63 - 1)
    opt = optim.Adam32bit(params)
    with pytest.raises(RuntimeError, match=r"step 9223372036854775807 is outside \[0, BNB_MAX_STEP"):
        opt.load_state_dict(state)
    assert not opt.state  # nothing changed
