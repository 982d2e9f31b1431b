/* bnb8.i -- the one SWIG interface for every language (Python, Java, C#).
 *
 * Shape (OR-Tools/GDAL style): the opaque bnb_optimizer becomes the class Optimizer with deterministic
 * release (Python: close() and a context manager; Java: AutoCloseable; C#: IDisposable), the config
 * struct becomes OptimizerConfig (constructed for an algorithm, with its defaults), and every failing
 * status becomes an exception in exactly one place (%exception below) carrying the library's
 * thread-local message. Buffers cross as 64-bit addresses (uint64_t): the library never copies or owns
 * them, and each language turns its own arrays into addresses (Python: numpy/torch data pointers in
 * the bnb8 package; Java: direct java.nio buffers; C#: pinned arrays or unmanaged memory; both in their
 * proxy classes). Sizes and indices are 64-bit in every language.
 *
 * Language-only parts live in #if defined(SWIGPYTHON | SWIGJAVA | SWIGCSHARP) sections of this file; the
 * Java and C# ones in the files they include, java/bnb8_java.i and csharp/bnb8_csharp.i. */

#if defined(SWIGPYTHON)
%module(package="bnb8") native
#elif defined(SWIGJAVA)
%module Bnb8
#elif defined(SWIGCSHARP)
%module Bnb  /* namespace Bnb8 (set by cmake/bnb8_csharp.cmake): Bnb8.Bnb, not Bnb8.Bnb8 */
#endif

%{
#include <cstdint>
#include <cstring>
#include <string>

#include "bnb8.h"

/* Note [binding errors]: wrapped functions record a failing status here; %exception turns it into
 * the language's exception after the call, with bnb_last_error_message(). Thread-local, like the
 * library's message. */
static thread_local int bnb8_binding_status = BNB_OK;

static inline bool bnb8_check(bnb_status status) {
    bnb8_binding_status = status;
    return status == BNB_OK;
}

static inline void* bnb8_pointer(uint64_t address) { return reinterpret_cast<void*>(static_cast<uintptr_t>(address)); }
%}

%include <stdint.i>
%include <std_string.i>

/* ---- errors become exceptions, in one place ---------------------------------------------------- */

#if defined(SWIGPYTHON)
%exception {
    bnb8_binding_status = BNB_OK;
    $action
    if (bnb8_binding_status != BNB_OK) {
        PyObject* type = PyExc_RuntimeError;
        switch (bnb8_binding_status) {
            case BNB_ERR_INVALID_ARGUMENT: type = PyExc_ValueError; break;
            case BNB_ERR_OUT_OF_MEMORY: type = PyExc_MemoryError; break;
            case BNB_ERR_IO: type = PyExc_OSError; break;
            case BNB_ERR_UNSUPPORTED: type = PyExc_NotImplementedError; break;
            default: break;
        }
        PyErr_SetString(type, bnb_last_error_message());
        SWIG_fail;
    }
}
#elif defined(SWIGJAVA) || defined(SWIGCSHARP)
/* Java and C#: %exception is in java/bnb8_java.i and csharp/bnb8_csharp.i (their Bnb8Exception). */
#endif

/* ---- language typemaps (before anything is wrapped) ---------------------------------------------- */

#if defined(SWIGJAVA)
%include "java/bnb8_java.i"     /* names, exceptions, direct buffers: Note [java buffers] */
#elif defined(SWIGCSHARP)
%include "csharp/bnb8_csharp.i" /* names, exceptions, pinned arrays: Note [csharp buffers] */
#endif

/* ---- what is wrapped: constants, enums, and the classes below; raw C functions are not ----------- */

%rename("%(strip:[BNB_])s", %$isenumitem) "";
%rename("%(strip:[BNB_])s", %$isconstant) "";
%ignore BNB_VERSION_STRINGIFY_;
%ignore BNB_VERSION_STRINGIFY;
%ignore BNB_VERSION_STRING;
%ignore BNB_OPTIMIZER_CONFIG_INIT;
%ignore BNB_OPTIMIZER_CONFIG_MIN_SIZE;
%ignore BNB_DEFAULT_F64;
%ignore BNB_DEFAULT_I32;
%ignore BNB_DEFAULT_I64;
%rename("$ignore", regextarget=1, %$isfunction) "^bnb_";  /* the handle's methods are the API */
%ignore bnb_tensor;
%ignore bnb_state_view;
%ignore bnb_state_location;  /* CUDA placement: exposed as a record where a binding needs it */
%ignore bnb_param_state;
%ignore bnb_hparam_bounds;
%ignore bnb_step_info;
%ignore bnb_param_info;

%rename(OptimizerConfig) bnb_optimizer_config;
%ignore bnb_optimizer;
%immutable bnb_optimizer_config::struct_size;

#define BNB_API
#define BNB_NODISCARD
#define BNB_DEPRECATED(msg)
%include "bnb8.h"

/* Plain records returned by the handle's methods. */
%inline %{
struct ParamInfo {
    int64_t numel;
    int32_t dtype;
    int32_t device;
    int64_t group;
    int64_t step;
    int32_t state_mode;
    int32_t num_states;
    int64_t state_bytes;
    double gradient_scale;
    double trust_ratio;
    double update_sq_norm;
};

struct StepInfo {
    int64_t nonfinite_count;
    int64_t params_stepped;
    bool skipped;
};

/* A state's buffers as addresses (see bnb_optimizer_state_view). */
struct StateView {
    int32_t mode;
    int32_t bits;
    int64_t rows;
    int64_t numel;
    uint64_t data;
    uint64_t absmax;
    int64_t absmax_per_row;
    uint64_t qmap;
};

struct HparamBounds {
    double min;
    double max;
    bool min_inclusive;
    bool max_inclusive;
};

int32_t version_number() { return bnb_version_number(); }
std::string version_string() { return bnb_version_string(); }
uint64_t features() { return bnb_features(); }
std::string status_string(int32_t status) { return bnb_status_string(status); }
int32_t state_format_version() { return bnb_state_format_version(); }

HparamBounds hparam_bounds(int32_t algorithm, int32_t hparam) {
    bnb_hparam_bounds b{};
    HparamBounds out{};
    if (bnb8_check(bnb_hparam_get_bounds(algorithm, hparam, &b))) {
        out = HparamBounds{b.min, b.max, b.min_inclusive != 0, b.max_inclusive != 0};
    }
    return out;
}

/* The built-in map (BNB_QMAP_SIGNED or BNB_QMAP_UNSIGNED) into 256 floats at `dst`. */
void qmap_copy(int32_t kind, uint64_t dst) { bnb8_check(bnb_qmap_copy(kind, static_cast<float*>(bnb8_pointer(dst)))); }

/* Block-wise (de)quantization of `numel` elements of `dtype` with the 256-float map at `map`. */
void quantize_blockwise(uint64_t map, uint64_t src, int64_t numel, int32_t dtype, int64_t block_size, uint64_t codes,
                        uint64_t absmax) {
    bnb_tensor t{bnb8_pointer(src), numel, dtype, BNB_DEVICE_CPU};
    bnb8_check(bnb_quantize_blockwise_ex(static_cast<const float*>(bnb8_pointer(map)), &t, block_size,
                                         static_cast<uint8_t*>(bnb8_pointer(codes)),
                                         static_cast<float*>(bnb8_pointer(absmax))));
}

void dequantize_blockwise(uint64_t map, uint64_t codes, uint64_t absmax, int64_t block_size, uint64_t dst,
                          int64_t numel, int32_t dtype) {
    bnb_tensor t{bnb8_pointer(dst), numel, dtype, BNB_DEVICE_CPU};
    bnb8_check(bnb_dequantize_blockwise_ex(static_cast<const float*>(bnb8_pointer(map)),
                                           static_cast<const uint8_t*>(bnb8_pointer(codes)),
                                           static_cast<const float*>(bnb8_pointer(absmax)), block_size, &t));
}
%}

/* ---- OptimizerConfig: constructed for an algorithm, with its defaults ---------------------------- */

%extend bnb_optimizer_config {
    bnb_optimizer_config(int32_t algorithm) {
        bnb_optimizer_config* config = new bnb_optimizer_config();
        if (!bnb8_check(bnb_optimizer_config_init(config, algorithm))) {
            delete config;
            return nullptr;
        }
        return config;
    }
    ~bnb_optimizer_config() { delete $self; }
}

/* ---- Optimizer: the handle as a class ------------------------------------------------------------ */

/* Constructed through %extend (below) so that a failed creation allocates nothing. */
%ignore Optimizer::Optimizer(bnb_optimizer*);

/* Note [shadow class]: a small C++ class owns the bnb_optimizer handle (GDAL's shadow pattern). SWIG
 * cannot %extend the opaque struct itself: its generated helpers would be named bnb_optimizer_<method>
 * and collide with the C API. Each method is one C call through bnb8_check(). */
%inline %{
class Optimizer {
public:
    explicit Optimizer(bnb_optimizer* handle) : handle_(handle) {}
    ~Optimizer() { bnb_optimizer_destroy(handle_); }
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    bnb_optimizer_config get_config() {
        bnb_optimizer_config config{};
        config.struct_size = sizeof config;
        bnb8_check(bnb_optimizer_get_config(handle_, &config));
        return config;
    }

    int64_t add_group() {
        int64_t group = -1;
        bnb8_check(bnb_optimizer_add_group(handle_, &group));
        return group;
    }
    int64_t group_count() {
        int64_t count = 0;
        bnb8_check(bnb_optimizer_group_count(handle_, &count));
        return count;
    }
    void set_hparam(int64_t group, int32_t hparam, double value) {
        bnb8_check(bnb_optimizer_set_hparam(handle_, group, hparam, value));
    }
    double get_hparam(int64_t group, int32_t hparam) {
        double value = 0;
        bnb8_check(bnb_optimizer_get_hparam(handle_, group, hparam, &value));
        return value;
    }

    /* Registers `numel` elements of `dtype` at address `param` (device: DEVICE_CPU or a CUDA ordinal)
     * with their gradient at `grad` (0: none yet); returns the parameter's index. The buffers stay the
     * caller's and must outlive their registration (rebind with bind_param). */
    int64_t add_param(int64_t group, uint64_t param, uint64_t grad, int64_t numel, int32_t dtype,
                      int32_t device = BNB_DEVICE_CPU) {
        const bnb_tensor p{bnb8_pointer(param), numel, dtype, device};
        const bnb_tensor g{bnb8_pointer(grad), numel, dtype, device};
        int64_t index = -1;
        bnb8_check(bnb_optimizer_add_param(handle_, group, &p, grad != 0 ? &g : nullptr, &index));
        return index;
    }
    void bind_param(int64_t index, uint64_t param, uint64_t grad, int64_t numel, int32_t dtype,
                    int32_t device = BNB_DEVICE_CPU) {
        const bnb_tensor p{bnb8_pointer(param), numel, dtype, device};
        const bnb_tensor g{bnb8_pointer(grad), numel, dtype, device};
        bnb8_check(bnb_optimizer_bind_param(handle_, index, &p, grad != 0 ? &g : nullptr));
    }
    int64_t param_count() {
        int64_t count = 0;
        bnb8_check(bnb_optimizer_param_count(handle_, &count));
        return count;
    }
    ParamInfo param_info(int64_t index) {
        bnb_param_info info{};
        info.struct_size = sizeof info;
        ParamInfo out{};
        if (bnb8_check(bnb_optimizer_param_info(handle_, index, &info))) {
            out = ParamInfo{info.numel, info.dtype, info.device, info.group, info.step, info.state_mode,
                            info.num_states, info.state_bytes, info.gradient_scale, info.trust_ratio,
                            info.update_sq_norm};
        }
        return out;
    }
    int64_t state_bytes() {
        int64_t bytes = 0;
        bnb8_check(bnb_optimizer_state_bytes(handle_, &bytes));
        return bytes;
    }
    /* The fp32 values of state 1 or 2 of a parameter into `count` floats at `dst`. */
    void copy_state(int64_t index, int32_t state, uint64_t dst, int64_t count) {
        bnb8_check(bnb_optimizer_copy_state(handle_, index, state, static_cast<float*>(bnb8_pointer(dst)), count));
    }
    /* Percentile clipping's 100 squared norms of a parameter into `count` floats at `dst`. */
    void copy_clip_history(int64_t index, uint64_t dst, int64_t count) {
        bnb8_check(bnb_optimizer_copy_clip_history(handle_, index, static_cast<float*>(bnb8_pointer(dst)), count));
    }
    StateView state_view(int64_t index, int32_t state) {
        bnb_state_view v{};
        v.struct_size = sizeof v;
        StateView out{};
        if (bnb8_check(bnb_optimizer_state_view(handle_, index, state, &v))) {
            out = StateView{v.mode, v.bits, v.rows, v.numel, reinterpret_cast<uintptr_t>(v.data),
                            reinterpret_cast<uintptr_t>(v.absmax), v.absmax_per_row, reinterpret_cast<uintptr_t>(v.qmap)};
        }
        return out;
    }
    /* A parameter's step and states from caller buffers (0 for absent ones), validated. */
    void import_param_state(int64_t index, int64_t step, int32_t mode, int32_t num_states, uint64_t data1,
                            uint64_t data2, uint64_t absmax1, uint64_t absmax2, uint64_t qmap1, uint64_t qmap2,
                            uint64_t clip_history) {
        bnb_param_state s{};
        s.struct_size = sizeof s;
        s.step = step;
        s.mode = mode;
        s.num_states = num_states;
        s.data[0] = bnb8_pointer(data1);
        s.data[1] = bnb8_pointer(data2);
        s.absmax[0] = static_cast<const float*>(bnb8_pointer(absmax1));
        s.absmax[1] = static_cast<const float*>(bnb8_pointer(absmax2));
        s.qmap[0] = static_cast<const float*>(bnb8_pointer(qmap1));
        s.qmap[1] = static_cast<const float*>(bnb8_pointer(qmap2));
        s.clip_history = static_cast<const float*>(bnb8_pointer(clip_history));
        bnb8_check(bnb_optimizer_import_param_state(handle_, index, &s));
    }

    void set_param_override(int64_t index, int32_t key, double value) {
        bnb8_check(bnb_optimizer_set_param_override(handle_, index, key, value));
    }
    void clear_param_override(int64_t index, int32_t key) {
        bnb8_check(bnb_optimizer_clear_param_override(handle_, index, key));
    }
    double get_param_setting(int64_t index, int32_t key) {
        double value = 0;
        bnb8_check(bnb_optimizer_get_param_setting(handle_, index, key, &value, nullptr));
        return value;
    }
    bool is_param_override(int64_t index, int32_t key) {
        double value = 0;
        int32_t overridden = 0;
        bnb8_check(bnb_optimizer_get_param_setting(handle_, index, key, &value, &overridden));
        return overridden != 0;
    }

    void step() { bnb8_check(bnb_step(handle_)); }
    StepInfo last_step_info() {
        bnb_step_info info{};
        info.struct_size = sizeof info;
        StepInfo out{};
        if (bnb8_check(bnb_optimizer_last_step_info(handle_, &info))) {
            out = StepInfo{info.nonfinite_count, info.params_stepped, info.skipped != 0};
        }
        return out;
    }

    void save(const char* path) { bnb8_check(bnb_state_save(handle_, path)); }
    void load(const char* path) { bnb8_check(bnb_state_load(handle_, path)); }
    uint64_t serialized_size() {
        size_t size = 0;
        bnb8_check(bnb_state_serialized_size(handle_, &size));
        return size;
    }
    /* Writes the checkpoint into `capacity` bytes at `dst`; returns the bytes written. */
    uint64_t save_to_buffer(uint64_t dst, uint64_t capacity) {
        size_t written = 0;
        bnb8_check(bnb_state_save_to_buffer(handle_, bnb8_pointer(dst), static_cast<size_t>(capacity), &written));
        return written;
    }
    void load_from_buffer(uint64_t src, uint64_t size) {
        bnb8_check(bnb_state_load_from_buffer(handle_, bnb8_pointer(src), static_cast<size_t>(size)));
    }

private:
    bnb_optimizer* handle_ = nullptr;
};
%}

%extend Optimizer {
    Optimizer(const bnb_optimizer_config& config) {
        bnb_optimizer* handle = nullptr;
        return bnb8_check(bnb_optimizer_create(&config, &handle)) ? new Optimizer(handle) : nullptr;
    }
}

/* ---- language-only parts -------------------------------------------------------------------------- */

#if defined(SWIGPYTHON)
%extend Optimizer {
%pythoncode %{
    def close(self):
        """Frees the optimizer and its states now (idempotent); the object is unusable afterwards."""
        if getattr(self, "this", None) is not None and self.thisown:
            self.__swig_destroy__(self)
            self.thisown = False
            self.this = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
%}
}
#endif
