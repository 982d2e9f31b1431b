/*
 * bnb8.h -- 8-bit optimizers behind a stable C ABI.
 *
 * bnb8 updates the parameters of a model in place, the way an optimizer of a training framework does,
 * while storing the optimizer states (momentum, variance) as 8-bit block-wise dynamic quantization:
 * one byte per state element plus one fp32 scale per 256 elements, about 75 % less memory than fp32
 * states at 32-bit training quality. The numeric contract (maps, rounding rule, block layout and the
 * exact update of every algorithm) is the project's ALGORITHMS.md specification.
 *
 * How to use it
 * -------------
 *   1. Fill a bnb_optimizer_config with bnb_optimizer_config_init(&cfg, BNB_ALGO_ADAMW) and adjust it.
 *   2. bnb_optimizer_create(&cfg, &opt).
 *   3. Register every parameter once with bnb_optimizer_add_param(): the parameter buffer, its
 *      gradient buffer, the element count, the dtype and the device. The library never copies or
 *      frees these buffers; it reads the gradient and writes the parameter during bnb_step().
 *   4. After each backward pass call bnb_step(opt). Change the learning rate between steps with
 *      bnb_optimizer_set_hparam() (schedulers).
 *   5. bnb_state_save() / bnb_state_load() write and read checkpoints; bnb_optimizer_destroy() frees
 *      everything the optimizer owns.
 *
 * Conventions
 * -----------
 *   - Every fallible function returns a bnb_status. BNB_OK (0) is success; on failure nothing observable
 *     has changed (a failed step or load leaves the optimizer exactly as it was) and
 *     bnb_last_error_message() describes the failure on the calling thread, naming the argument and value.
 *   - Outputs are written through pointer arguments, which always come last. An output is written only
 *     on success.
 *   - No function aborts, exits or lets an exception escape. Invalid input gives a status.
 *   - Thread safety: one optimizer handle must not be used by two threads at the same time; distinct
 *     handles are fully independent. Functions without a handle are thread-safe.
 *   - Element counts, indices and step counters are 64-bit.
 *   - Arguments and fields that hold one of the enumerations below (bnb_algorithm, bnb_hparam, ...) are
 *     declared int32_t: any value can cross the ABI, and unknown values are rejected with
 *     BNB_ERR_INVALID_ARGUMENT instead of being undefined behaviour for the library.
 *   - Structures that may grow (bnb_optimizer_config, bnb_param_info) start with a struct_size field:
 *     the library reads or writes only the first struct_size bytes, so a program compiled against an
 *     older header keeps working with a newer library.
 *   - "since 0.1" marks the version that introduced a declaration.
 *
 * This header is C99 and C++ compatible and includes nothing but <stddef.h> and <stdint.h>.
 */
#ifndef BNB8_H
#define BNB8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================================================ */
/* Version                                                                                          */
/* ================================================================================================ */

/* The version is defined here once; CMake parses these three lines. */
#define BNB_VERSION_MAJOR 0
#define BNB_VERSION_MINOR 1
#define BNB_VERSION_PATCH 0

/** BNB_VERSION_NUMBER is MAJOR*10000 + MINOR*100 + PATCH, e.g. 100 for 0.1.0. */
#define BNB_VERSION_NUMBER (BNB_VERSION_MAJOR * 10000 + BNB_VERSION_MINOR * 100 + BNB_VERSION_PATCH)

#define BNB_VERSION_STRINGIFY_(x) #x
#define BNB_VERSION_STRINGIFY(x) BNB_VERSION_STRINGIFY_(x)
/** BNB_VERSION_STRING is "MAJOR.MINOR.PATCH". */
#define BNB_VERSION_STRING \
    BNB_VERSION_STRINGIFY(BNB_VERSION_MAJOR) "." BNB_VERSION_STRINGIFY(BNB_VERSION_MINOR) "." \
    BNB_VERSION_STRINGIFY(BNB_VERSION_PATCH)

/* ================================================================================================ */
/* Export and attribute macros                                                                      */
/* ================================================================================================ */

#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(BNB_BUILDING_LIBRARY)
#    define BNB_API __declspec(dllexport)
#  else
#    define BNB_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define BNB_API __attribute__((visibility("default")))
#else
#  define BNB_API
#endif

/* BNB_NODISCARD: the compiler warns when a returned status is ignored. */
#if defined(__GNUC__) || defined(__clang__)
#  define BNB_NODISCARD __attribute__((warn_unused_result))
#else
#  define BNB_NODISCARD
#endif

/* BNB_DEPRECATED(msg): marks declarations due for removal. Define BNB_DISABLE_DEPRECATE_WARNINGS to
 * silence the warnings. */
#if defined(BNB_DISABLE_DEPRECATE_WARNINGS)
#  define BNB_DEPRECATED(msg)
#elif defined(__GNUC__) || defined(__clang__)
#  define BNB_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(_MSC_VER)
#  define BNB_DEPRECATED(msg) __declspec(deprecated(msg))
#else
#  define BNB_DEPRECATED(msg)
#endif

/* ================================================================================================ */
/* Status codes and errors                                                                          */
/* ================================================================================================ */

/**
 * Result of every fallible call. The values are pinned and never reused; new codes may be added.
 * since 0.1
 */
typedef enum bnb_status {
    BNB_OK = 0,                   /**< Success. */
    BNB_ERR_INVALID_ARGUMENT = 1, /**< An argument is NULL, out of range, inconsistent or unknown. */
    BNB_ERR_INVALID_STATE = 2,    /**< The call is not allowed now (e.g. a step with no parameters). */
    BNB_ERR_OUT_OF_MEMORY = 3,    /**< An allocation failed; nothing was changed. */
    BNB_ERR_UNSUPPORTED = 4,      /**< A valid request this build or algorithm does not support. */
    BNB_ERR_NO_CUDA_DEVICE = 5,   /**< A CUDA device was requested but none is usable. */
    BNB_ERR_CUDA = 6,             /**< A CUDA call failed; the message names it. */
    BNB_ERR_IO = 7,               /**< A file could not be opened, read, written or renamed. */
    BNB_ERR_BAD_FORMAT = 8,       /**< Serialized data is malformed, truncated or corrupt. */
    BNB_ERR_VERSION = 9,          /**< A struct or file version this library cannot handle. */
    BNB_ERR_INTERNAL = 10         /**< A bug in bnb8; please report it with the message. */
} bnb_status;

/**
 * A static, actionable sentence describing a bnb_status code (never NULL; unknown codes get a
 * generic sentence). Thread-safe. since 0.1
 */
BNB_API const char* bnb_status_string(int32_t status);

/**
 * The detailed message of the most recent failure on the calling thread, e.g.
 * "bnb_optimizer_create: config->beta1 = 1 is outside [0, 1)". Never NULL; owned by the library and
 * valid until the next bnb8 call on this thread. Meaningful only right after a call that failed:
 * successful calls do not clear it. Each thread has its own message. since 0.1
 */
BNB_API const char* bnb_last_error_message(void);

/* ================================================================================================ */
/* Runtime version, features and constants                                                          */
/* ================================================================================================ */

/** The library's BNB_VERSION_NUMBER; compare with the header's to detect a mismatch. since 0.1 */
BNB_API int32_t bnb_version_number(void);

/** The library's BNB_VERSION_STRING. since 0.1 */
BNB_API const char* bnb_version_string(void);

/** Feature bits returned by bnb_features(). since 0.1 */
#define BNB_FEATURE_CPU (UINT64_C(1) << 0)          /**< The CPU backend (always present). */
#define BNB_FEATURE_CUDA (UINT64_C(1) << 1)         /**< The CUDA backend is compiled in. */

/** Bitmask of BNB_FEATURE_* available in this build. since 0.1 */
BNB_API uint64_t bnb_features(void);

/** Elements per quantization block of the 8-bit states. Always 256. since 0.1 */
#define BNB_BLOCK_SIZE 256
/** Function form of BNB_BLOCK_SIZE, for bindings. since 0.1 */
BNB_API int32_t bnb_block_size(void);

/** Entries in a quantization map. since 0.1 */
#define BNB_QMAP_SIZE 256
/** Function form of BNB_QMAP_SIZE, for bindings. since 0.1 */
BNB_API int32_t bnb_qmap_size(void);

/* ================================================================================================ */
/* Enumerations                                                                                     */
/* ================================================================================================ */

/**
 * Optimizer algorithms. Values are pinned; values not listed are reserved for the rest of the family
 * (SGD, Lion, LAMB, LARS, RMSprop, Adagrad, AdEMAMix) and are rejected until implemented. since 0.1
 */
typedef enum bnb_algorithm {
    BNB_ALGO_ADAM = 1,  /**< torch.optim.Adam: coupled L2 weight decay (g += wd * p). */
    BNB_ALGO_ADAMW = 2  /**< torch.optim.AdamW: decoupled weight decay (p *= 1 - lr * wd), first. */
} bnb_algorithm;

/** Element types of parameters and gradients. since 0.1 */
typedef enum bnb_dtype {
    BNB_DTYPE_F32 = 1,  /**< IEEE binary32. */
    BNB_DTYPE_F16 = 2,  /**< IEEE binary16. */
    BNB_DTYPE_BF16 = 3  /**< bfloat16 (the upper half of a binary32). */
} bnb_dtype;

/** The device value of a host (CPU) buffer. Values >= 0 are CUDA device ordinals. since 0.1 */
#define BNB_DEVICE_CPU (-1)

/** How a parameter's optimizer states are stored (chosen at the parameter's first step). since 0.1 */
typedef enum bnb_state_mode {
    BNB_STATE_MODE_NONE = 0,              /**< Not created yet (before the first step). */
    BNB_STATE_MODE_32BIT = 1,             /**< fp32 states. */
    BNB_STATE_MODE_8BIT_BLOCKWISE = 2,    /**< uint8 codes, one fp32 absmax per 256 elements. */
    BNB_STATE_MODE_8BIT_TENSORWISE = 3    /**< uint8 codes, one fp32 absmax per tensor. */
} bnb_state_mode;

/** Which optimizer state of a parameter, for bnb_optimizer_copy_state(). since 0.1 */
typedef enum bnb_state_id {
    BNB_STATE1 = 1, /**< First moment m (Adam, AdamW). */
    BNB_STATE2 = 2  /**< Second moment v (Adam, AdamW). */
} bnb_state_id;

/** Built-in quantization maps (ALGORITHMS.md, Appendix A). since 0.1 */
typedef enum bnb_qmap_kind {
    BNB_QMAP_SIGNED = 1,  /**< "qmap1": 127 negative entries, +0.0 at index 127, 1.0 at index 255. */
    BNB_QMAP_UNSIGNED = 2 /**< "qmap2": +0.0 at index 0 up to 1.0 at index 255. */
} bnb_qmap_kind;

/**
 * Hyper-parameters that may change between steps, per parameter group. Values are pinned, in bands:
 * 100s step size and moment coefficients, 200s regularisation. since 0.1
 */
typedef enum bnb_hparam {
    BNB_HPARAM_LR = 100,           /**< Learning rate, >= 0. */
    BNB_HPARAM_BETA1 = 101,        /**< First-moment decay, in [0, 1). */
    BNB_HPARAM_BETA2 = 102,        /**< Second-moment decay, in [0, 1). */
    BNB_HPARAM_EPS = 110,          /**< Denominator epsilon, >= 0. */
    BNB_HPARAM_WEIGHT_DECAY = 200  /**< Weight decay, >= 0. */
} bnb_hparam;

/* ================================================================================================ */
/* Tensors                                                                                          */
/* ================================================================================================ */

/**
 * A view of a caller-owned buffer: the library never copies, frees or retains it beyond what the
 * function using it documents. data may be NULL only when numel is 0. data must be aligned to its
 * element size. This struct is frozen: it will never change size. since 0.1
 */
typedef struct bnb_tensor {
    void* data;      /**< First element. Gradients are only read. */
    int64_t numel;   /**< Number of elements, >= 0. */
    int32_t dtype;   /**< A bnb_dtype. */
    int32_t device;  /**< BNB_DEVICE_CPU or a CUDA device ordinal. */
} bnb_tensor;

/* ================================================================================================ */
/* Configuration                                                                                    */
/* ================================================================================================ */

/**
 * Sentinels meaning "the algorithm's default" in any config field of the matching type. They let
 * BNB_OPTIMIZER_CONFIG_INIT work as a static initializer. since 0.1
 */
#define BNB_DEFAULT_F64 (-1.0e308)
#define BNB_DEFAULT_I32 (-2147483647 - 1)
#define BNB_DEFAULT_I64 (-INT64_C(9223372036854775807) - 1)

/**
 * Optimizer configuration. Fill it with bnb_optimizer_config_init() (which writes the algorithm's
 * concrete defaults, readable by the caller) or with BNB_OPTIMIZER_CONFIG_INIT plus an algorithm (all
 * fields at their "default" sentinel). Fields are only ever appended, never reordered.
 *
 * Versioning: struct_size must be set to sizeof(bnb_optimizer_config) as the caller compiled it. The
 * library reads only the first struct_size bytes; fields past it take the algorithm's defaults (a
 * program built against an older header keeps working); bytes past the library's own struct are
 * ignored. struct_size must cover at least struct_size and algorithm (BNB_OPTIMIZER_CONFIG_MIN_SIZE).
 *
 * The lr, betas, eps and weight decay set here are the initial hyper-parameters of every parameter
 * group; change them later with bnb_optimizer_set_hparam().
 */
typedef struct bnb_optimizer_config {
    size_t struct_size;    /**< sizeof(bnb_optimizer_config). since 0.1 */
    int32_t algorithm;     /**< A bnb_algorithm. since 0.1 */
    int32_t optim_bits;    /**< 32 (fp32 states, default) or 8 (8-bit states). since 0.1 */
    double lr;             /**< Learning rate, >= 0. Default 1e-3. since 0.1 */
    double beta1;          /**< In [0, 1). Default 0.9. since 0.1 */
    double beta2;          /**< In [0, 1). Default 0.999. since 0.1 */
    double eps;            /**< >= 0. Default 1e-8. since 0.1 */
    double weight_decay;   /**< >= 0. Default 0 (Adam), 1e-2 (AdamW). since 0.1 */
    int32_t block_wise;    /**< 8-bit only: 1 block-wise absmax (default), 0 one absmax per tensor. since 0.1 */
    int32_t amsgrad;       /**< Must be 0: AMSGrad is not supported (BNB_ERR_UNSUPPORTED). since 0.1 */
    int64_t min_8bit_size; /**< Parameters with fewer elements keep fp32 states. >= 0. Default 4096. since 0.1 */
} bnb_optimizer_config;

/** Smallest struct_size accepted: the struct_size and algorithm fields. since 0.1 */
#define BNB_OPTIMIZER_CONFIG_MIN_SIZE (offsetof(bnb_optimizer_config, algorithm) + sizeof(int32_t))

/**
 * Static initializer: struct_size set, algorithm 0 (must be assigned), every other field at its
 * default sentinel. Example: bnb_optimizer_config cfg = BNB_OPTIMIZER_CONFIG_INIT;
 * cfg.algorithm = BNB_ALGO_ADAMW; since 0.1
 */
#define BNB_OPTIMIZER_CONFIG_INIT                                                                   \
    {                                                                                               \
        sizeof(bnb_optimizer_config), 0, BNB_DEFAULT_I32, BNB_DEFAULT_F64, BNB_DEFAULT_F64,         \
            BNB_DEFAULT_F64, BNB_DEFAULT_F64, BNB_DEFAULT_F64, BNB_DEFAULT_I32, BNB_DEFAULT_I32,    \
            BNB_DEFAULT_I64                                                                         \
    }

/**
 * Fill *config with the defaults of `algorithm` and set struct_size to sizeof(bnb_optimizer_config).
 * Bindings call this instead of the macro. since 0.1
 * @param config     Caller-owned struct to fill; not NULL.
 * @param algorithm  A bnb_algorithm value.
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT for a NULL config or an unknown algorithm.
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_config_init(bnb_optimizer_config* config,
                                                           int32_t algorithm);

/* ================================================================================================ */
/* Lifecycle                                                                                        */
/* ================================================================================================ */

/** Opaque optimizer handle. since 0.1 */
typedef struct bnb_optimizer bnb_optimizer;

/**
 * Create an optimizer with one parameter group (index 0) holding the config's hyper-parameters.
 * The config is copied; it may be freed afterwards. since 0.1
 * @param config  A config (see bnb_optimizer_config for versioning); not NULL.
 * @param out     Receives the new handle; not NULL. Free it with bnb_optimizer_destroy().
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL pointer, unknown algorithm, a value out of range:
 *         lr, eps or weight_decay < 0 or non-finite, a beta outside [0, 1), optim_bits not 8 or 32,
 *         min_8bit_size < 0, block_wise or amsgrad not 0 or 1); BNB_ERR_VERSION (struct_size below
 *         BNB_OPTIMIZER_CONFIG_MIN_SIZE); BNB_ERR_UNSUPPORTED (amsgrad = 1); BNB_ERR_OUT_OF_MEMORY.
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_create(const bnb_optimizer_config* config,
                                                      bnb_optimizer** out);

/** Free the optimizer and every state it owns. NULL is a no-op. since 0.1 */
BNB_API void bnb_optimizer_destroy(bnb_optimizer* optimizer);

/**
 * Copy the optimizer's effective configuration (defaults resolved, as created) into *out. Only the
 * first out->struct_size bytes are written, so set out->struct_size first. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL); BNB_ERR_VERSION (struct_size too small).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_get_config(const bnb_optimizer* optimizer,
                                                          bnb_optimizer_config* out);

/* ================================================================================================ */
/* Parameter groups and hyper-parameters                                                            */
/* ================================================================================================ */

/**
 * Add a parameter group initialised with the hyper-parameters of the creation config, like
 * torch.optim.Optimizer.add_param_group. since 0.1
 * @param out_group  Receives the new group's index (1, 2, ...); not NULL.
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_add_group(bnb_optimizer* optimizer, int64_t* out_group);

/** Number of parameter groups (at least 1). since 0.1 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_group_count(const bnb_optimizer* optimizer,
                                                           int64_t* out_count);

/**
 * Set one hyper-parameter of a group; it takes effect at the next step (LR schedulers call this
 * between steps). The value is validated as in bnb_optimizer_create; on failure nothing changes.
 * since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (unknown group or hparam, a hparam the algorithm does not
 *         have, a value out of range or non-finite).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_set_hparam(bnb_optimizer* optimizer, int64_t group,
                                                          int32_t hparam, double value);

/** Read one hyper-parameter of a group into *out_value. since 0.1 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_get_hparam(const bnb_optimizer* optimizer,
                                                          int64_t group, int32_t hparam,
                                                          double* out_value);

/** Valid range of a hyper-parameter: min <= x (or min < x), x <= max (or x < max). since 0.1 */
typedef struct bnb_hparam_bounds {
    double min;            /**< Lower bound. */
    double max;            /**< Upper bound (may be +infinity, written as 1.0/0.0). */
    int32_t min_inclusive; /**< 1 if min itself is allowed. */
    int32_t max_inclusive; /**< 1 if max itself is allowed. */
} bnb_hparam_bounds;

/**
 * The valid range of `hparam` for `algorithm`. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (unknown algorithm or hparam, or one the algorithm does not
 *         have, NULL out).
 */
BNB_API BNB_NODISCARD bnb_status bnb_hparam_get_bounds(int32_t algorithm, int32_t hparam,
                                                       bnb_hparam_bounds* out);

/* ================================================================================================ */
/* Parameters                                                                                       */
/* ================================================================================================ */

/**
 * Register a parameter and (optionally) its gradient. Parameters are numbered 0, 1, ... in
 * registration order; the numbering is also the order in checkpoints. since 0.1
 *
 * The parameter buffer is written by every bnb_step(); the gradient buffer is read. Both stay owned by
 * the caller and must stay valid while they are bound; rebind them with bnb_optimizer_bind_param().
 * @param group  An existing parameter group.
 * @param param  The parameter: any numel >= 0 (zero-element parameters are accepted and never
 *               touched), dtype F32, F16 or BF16, device BNB_DEVICE_CPU (CUDA needs the CUDA backend).
 * @param grad   The gradient with the same numel, dtype and device, or NULL: a parameter without a
 *               gradient is skipped by bnb_step() (its states and step counter do not change).
 * @param out_index  Receives the parameter index; may be NULL.
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL param, unknown group, dtype or device, numel < 0,
 *         NULL or misaligned data with numel > 0, a grad whose numel, dtype or device differs from the
 *         param's, a grad that is the param's own buffer); BNB_ERR_UNSUPPORTED (a CUDA device in a
 *         build without the CUDA backend); BNB_ERR_OUT_OF_MEMORY.
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_add_param(bnb_optimizer* optimizer, int64_t group,
                                                         const bnb_tensor* param,
                                                         const bnb_tensor* grad, int64_t* out_index);

/**
 * Point a registered parameter at new buffers (e.g. after the framework reallocated them), with the
 * same numel, dtype and device as registered. grad may be NULL: the parameter then has no gradient
 * and is skipped by the next steps until a gradient is bound again. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (unknown index, NULL param, any mismatch with the
 *         registration as in bnb_optimizer_add_param).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_bind_param(bnb_optimizer* optimizer, int64_t index,
                                                          const bnb_tensor* param,
                                                          const bnb_tensor* grad);

/** Number of registered parameters. since 0.1 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_param_count(const bnb_optimizer* optimizer,
                                                           int64_t* out_count);

/**
 * What the optimizer knows about one parameter. Set struct_size = sizeof(bnb_param_info) before the
 * call; only that many bytes are written. since 0.1
 */
typedef struct bnb_param_info {
    size_t struct_size;  /**< sizeof(bnb_param_info), set by the caller. */
    int64_t numel;       /**< Element count. */
    int32_t dtype;       /**< bnb_dtype of the parameter and gradient. */
    int32_t device;      /**< BNB_DEVICE_CPU or CUDA ordinal. */
    int64_t group;       /**< Parameter group. */
    int64_t step;        /**< Steps applied to this parameter so far (its own counter t). */
    int32_t state_mode;  /**< bnb_state_mode; BNB_STATE_MODE_NONE before the first step. */
    int32_t num_states;  /**< Number of states (2 for Adam/AdamW). */
    int64_t state_bytes; /**< Bytes of optimizer state held for it: codes or fp32 values plus absmax. */
} bnb_param_info;

/**
 * Fill *out with the description of parameter `index`. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, unknown index); BNB_ERR_VERSION (struct_size below
 *         the size of the v0.1 struct prefix up to numel).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_param_info(const bnb_optimizer* optimizer, int64_t index,
                                                          bnb_param_info* out);

/**
 * Total bytes of optimizer state held for all parameters (what 8-bit storage saves on). Maps are
 * shared by all parameters and counted once. since 0.1
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_state_bytes(const bnb_optimizer* optimizer,
                                                           int64_t* out_bytes);

/**
 * Copy the fp32 (dequantized, for 8-bit states) values of one state of a parameter into a caller
 * buffer of exactly numel floats. Before the parameter's first step the states are all zero.
 * since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, unknown index or state, dst_count != numel).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_copy_state(const bnb_optimizer* optimizer, int64_t index,
                                                          int32_t state, float* dst,
                                                          int64_t dst_count);

/* ================================================================================================ */
/* Step                                                                                             */
/* ================================================================================================ */

/**
 * Apply one optimizer step to every registered parameter that has a gradient bound. Each such
 * parameter's step counter advances by one; its states are created at its first step (8-bit when
 * optim_bits is 8 and numel >= min_8bit_size, fp32 otherwise).
 *
 * Gradient elements that are NaN or +-Inf leave their parameter element and its states untouched
 * (8-bit states are still requantized against the block's new absmax). The floating-point environment
 * is the contract's: if the calling thread has flush-to-zero or denormals-are-zero set, they are
 * cleared for the step and restored afterwards. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL); BNB_ERR_INVALID_STATE (no parameter registered);
 *         BNB_ERR_OUT_OF_MEMORY (states could not be created; nothing changed).
 */
BNB_API BNB_NODISCARD bnb_status bnb_step(bnb_optimizer* optimizer);

/* ================================================================================================ */
/* Checkpoints                                                                                      */
/* ================================================================================================ */

/**
 * Version of the checkpoint format written by this library, independent of the library version. A
 * loader reads every file of the same major version (newer minor versions only add metadata) and
 * rejects a newer major version with BNB_ERR_VERSION. since 0.1
 */
#define BNB_STATE_FORMAT_VERSION 1
/** Function form of BNB_STATE_FORMAT_VERSION. since 0.1 */
BNB_API int32_t bnb_state_format_version(void);

/**
 * Save the optimizer's complete state (hyper-parameters of every group, each parameter's step counter,
 * states and quantization maps) to `path`, atomically: the data goes to a temporary file in the same
 * folder, is flushed to disk, and replaces `path` by a rename, so a crash never leaves a half-written
 * checkpoint under the real name.
 *
 * The file is a safetensors file that any safetensors reader can open: tensors "p<i>.state<k>" (uint8
 * codes or fp32 values), "p<i>.absmax<k>" and "qmap.<j>", with metadata recording the format version,
 * library version, algorithm, configuration, hyper-parameters, per-parameter steps, state codecs, block
 * size and a checksum per tensor. Parameter values themselves are not saved (the training framework
 * saves the model). since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL); BNB_ERR_IO (the file could not be written; `path` is
 *         untouched).
 */
BNB_API BNB_NODISCARD bnb_status bnb_state_save(const bnb_optimizer* optimizer, const char* path);

/**
 * Load a checkpoint written by bnb_state_save() into an optimizer with the same algorithm, the same
 * parameters (count, element counts, dtypes and groups, in registration order) and a configuration that
 * stores each parameter's states the same way. Every byte is validated first; on any failure the
 * optimizer is left exactly as it was. On success the groups' hyper-parameters, the step counters and
 * the states are replaced, so the next step continues bit for bit where the saved optimizer stopped.
 * since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, or a checkpoint that does not fit this optimizer:
 *         algorithm, parameter or group count, element count, dtype, group, state codec);
 *         BNB_ERR_IO (the file cannot be read); BNB_ERR_BAD_FORMAT (not a bnb8 checkpoint, truncated,
 *         a checksum mismatch, an invalid map or value); BNB_ERR_VERSION (a newer major format
 *         version); BNB_ERR_OUT_OF_MEMORY.
 */
BNB_API BNB_NODISCARD bnb_status bnb_state_load(bnb_optimizer* optimizer, const char* path);

/**
 * Exact size in bytes of the checkpoint bnb_state_save_to_buffer() would write now. since 0.1
 */
BNB_API BNB_NODISCARD bnb_status bnb_state_serialized_size(const bnb_optimizer* optimizer, size_t* out_size);

/**
 * Write the checkpoint (the bytes bnb_state_save() would write) into a caller buffer. since 0.1
 * @param capacity     Bytes available at dst; at least bnb_state_serialized_size().
 * @param out_written  Receives the number of bytes written; may be NULL.
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, or capacity too small: nothing is written).
 */
BNB_API BNB_NODISCARD bnb_status bnb_state_save_to_buffer(const bnb_optimizer* optimizer, void* dst,
                                                          size_t capacity, size_t* out_written);

/** Load a checkpoint from `size` bytes at `src`, with the validation of bnb_state_load(). since 0.1 */
BNB_API BNB_NODISCARD bnb_status bnb_state_load_from_buffer(bnb_optimizer* optimizer, const void* src,
                                                            size_t size);

/* ================================================================================================ */
/* Quantization primitives                                                                          */
/* ================================================================================================ */

/**
 * Copy a built-in map (256 fp32 values, strictly increasing, ending in 1.0) into dst. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL dst, unknown kind).
 */
BNB_API BNB_NODISCARD bnb_status bnb_qmap_copy(int32_t kind, float* dst);

/**
 * Block-wise quantization exactly as the 8-bit states are stored: per block of 256 elements the
 * absmax A over the block, then each x * (1/A) rounded to the nearest map entry (ties to the even
 * index, NaN to code 0), with the signed map's sign fix; a block with A below 2^-126 stores absmax 0
 * and the map's zero code. since 0.1
 * @param kind    The map to quantize against.
 * @param src     Input values, F32, F16 or BF16, on the CPU.
 * @param codes   Output, src->numel bytes.
 * @param absmax  Output, ceil(src->numel / 256) floats.
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL pointers, unknown kind or dtype, numel < 0, a non-CPU
 *         tensor).
 */
BNB_API BNB_NODISCARD bnb_status bnb_quantize_blockwise(int32_t kind, const bnb_tensor* src,
                                                        uint8_t* codes, float* absmax);

/**
 * Inverse of bnb_quantize_blockwise: dst[i] = map[codes[i]] * absmax[i / 256] (+0.0 when the absmax
 * is 0), rounded to dst's dtype (round to nearest even). since 0.1
 * @param dst  Output tensor; its numel gives the element count. F32, F16 or BF16, CPU.
 */
BNB_API BNB_NODISCARD bnb_status bnb_dequantize_blockwise(int32_t kind, const uint8_t* codes,
                                                          const float* absmax, bnb_tensor* dst);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BNB8_H */
