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

/**
 * Largest step counter a parameter can have: 2^53, up to which every count is exact as a double (the
 * bias corrections use it so). bnb_step() refuses to step a parameter that has reached it
 * (BNB_ERR_INVALID_STATE, nothing changes), and loads refuse a larger counter. since 0.2
 */
#define BNB_MAX_STEP INT64_C(9007199254740992)

/* ================================================================================================ */
/* Enumerations                                                                                     */
/* ================================================================================================ */

/**
 * Optimizer algorithms (ALGORITHMS.md §6). Values are pinned. States per parameter in brackets:
 * "state1" and "state2" in bnb_optimizer_copy_state() and in checkpoints. since 0.1
 */
typedef enum bnb_algorithm {
    BNB_ALGO_ADAM = 1,     /**< torch.optim.Adam, coupled L2 decay (g += wd * p) [m, v]. */
    BNB_ALGO_ADAMW = 2,    /**< torch.optim.AdamW, decoupled decay (p *= 1 - lr * wd) first [m, v]. */
    BNB_ALGO_SGD = 3,      /**< torch.optim.SGD with momentum, dampening, nesterov [buf]; no state
                                when momentum is 0. */
    BNB_ALGO_LION = 4,     /**< Lion (lion-pytorch), decoupled decay [m]. */
    BNB_ALGO_LAMB = 5,     /**< LAMB: the Adam direction scaled by a capped trust ratio [m, v]. */
    BNB_ALGO_LARS = 6,     /**< LARS: momentum SGD scaled by a capped trust ratio [buf]. */
    BNB_ALGO_RMSPROP = 7,  /**< torch.optim.RMSprop, non-centered, no momentum [square average v]. */
    BNB_ALGO_ADAGRAD = 8,  /**< torch.optim.Adagrad [sum of squares v]. */
    BNB_ALGO_ADEMAMIX = 9  /**< AdEMAMix [m1 and m2 as two rows of state1, nu]. */
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

/**
 * Which optimizer state of a parameter, for bnb_optimizer_copy_state(). State1 is m (Adam, AdamW,
 * LAMB, Lion), the momentum buffer (SGD, LARS), the accumulator v (RMSprop, Adagrad), or m1 then m2
 * (AdEMAMix: 2 x numel values, two rows). State2 is v (Adam, AdamW, LAMB) or nu (AdEMAMix). since 0.1
 */
typedef enum bnb_state_id {
    BNB_STATE1 = 1,
    BNB_STATE2 = 2
} bnb_state_id;

/** Built-in quantization maps (ALGORITHMS.md, Appendix A). since 0.1 */
typedef enum bnb_qmap_kind {
    BNB_QMAP_SIGNED = 1,  /**< "qmap1": 127 negative entries, +0.0 at index 127, 1.0 at index 255. */
    BNB_QMAP_UNSIGNED = 2 /**< "qmap2": +0.0 at index 0 up to 1.0 at index 255. */
} bnb_qmap_kind;

/**
 * Hyper-parameters: per parameter group (bnb_optimizer_set_hparam) or per parameter
 * (bnb_optimizer_set_param_override), read at every step, so they may change between steps. Values
 * are pinned, in bands: 100s step size and moment coefficients, 200s regularisation and trust ratio.
 * Each algorithm has only some of them (bnb_hparam_get_bounds() says which, and their ranges).
 * since 0.1
 */
typedef enum bnb_hparam {
    BNB_HPARAM_LR = 100,           /**< Learning rate, >= 0. */
    BNB_HPARAM_BETA1 = 101,        /**< First-moment decay, in [0, 1) (Adam, AdamW, LAMB, Lion, AdEMAMix). */
    BNB_HPARAM_BETA2 = 102,        /**< Second-moment decay, in [0, 1) (Adam, AdamW, LAMB, Lion, AdEMAMix). */
    BNB_HPARAM_BETA3 = 103,        /**< Slow-EMA decay, in [0, 1) (AdEMAMix). */
    BNB_HPARAM_EPS = 110,          /**< Denominator epsilon, >= 0 (not SGD, LARS, Lion). */
    BNB_HPARAM_ALPHA = 120,        /**< RMSprop smoothing in [0, 1); AdEMAMix mixing weight >= 0. */
    BNB_HPARAM_MOMENTUM = 130,     /**< Momentum in [0, 1) (SGD; LARS needs > 0). */
    BNB_HPARAM_DAMPENING = 131,    /**< Momentum dampening in [0, 1) (SGD). */
    BNB_HPARAM_T_ALPHA = 140,      /**< AdEMAMix alpha warm-up length in steps, >= 0; 0 = off. */
    BNB_HPARAM_T_BETA3 = 141,      /**< AdEMAMix beta3 warm-up length in steps, >= 0; 0 = off. */
    BNB_HPARAM_WEIGHT_DECAY = 200, /**< Weight decay, >= 0. */
    BNB_HPARAM_MAX_UNORM = 210     /**< Trust-ratio cap, >= 0; 0 = no trust ratio (LAMB, LARS). */
} bnb_hparam;

/**
 * Per-parameter options (bnb_optimizer_set_param_override) whose optimizer-wide values come from the
 * config. The first four shape a parameter's states: they may be overridden in any order before the
 * parameter's first step, never after (BNB_ERR_INVALID_STATE). since 0.1
 */
typedef enum bnb_option {
    BNB_OPTION_OPTIM_BITS = 300,          /**< 8 or 32. Overriding 32 keeps e.g. embeddings in fp32. */
    BNB_OPTION_MIN_8BIT_SIZE = 301,       /**< Smaller parameters keep fp32 states. */
    BNB_OPTION_BLOCK_WISE = 302,          /**< 1 block-wise, 0 tensor-wise 8-bit states. */
    BNB_OPTION_PERCENTILE_CLIPPING = 303, /**< Integer in [0, 100]; 100 = off. */
    BNB_OPTION_SKIP_ZEROS = 310           /**< 1: elements whose raw gradient is +-0 are not updated. */
} bnb_option;

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
 * Every field applies to some algorithms only: a field that does not apply to the chosen algorithm must
 * keep its neutral value (what bnb_optimizer_config_init() writes, or the default sentinel), else
 * creation fails with BNB_ERR_INVALID_ARGUMENT; options the family defines but bnb8 does not
 * implement (AMSGrad, centered RMSprop, ...) fail with BNB_ERR_UNSUPPORTED. Nothing is ignored.
 *
 * The hyper-parameters set here (lr, betas, eps, weight decay, alpha, momentum, dampening, t_alpha,
 * t_beta3, max_unorm) are the initial values of every parameter group; change them later with
 * bnb_optimizer_set_hparam(). SGD and LARS have no default learning rate: set lr.
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
    double beta3;          /**< AdEMAMix slow-EMA decay in [0, 1). Default 0.9999. since 0.1 */
    double alpha;          /**< RMSprop smoothing in [0, 1), default 0.99; AdEMAMix mixing weight >= 0,
                                default 5. since 0.1 */
    double momentum;       /**< SGD in [0, 1), default 0 (plain SGD, no state); LARS in (0, 1), no
                                default; RMSprop: must be 0 (BNB_ERR_UNSUPPORTED). since 0.1 */
    double dampening;      /**< SGD in [0, 1), default 0; LARS: must be 0 (unsupported). since 0.1 */
    double t_alpha;        /**< AdEMAMix: steps over which alpha ramps up; 0 = off (default). since 0.1 */
    double t_beta3;        /**< AdEMAMix: steps over which beta3 ramps up; 0 = off (default). since 0.1 */
    double max_unorm;      /**< LAMB (default 1) and LARS (default 0.02): trust-ratio cap, 0 = no trust
                                ratio; every other algorithm: must be 0. since 0.1 */
    double lr_decay;       /**< Adagrad: must be 0 (unsupported). since 0.1 */
    double initial_accumulator_value; /**< Adagrad: must be 0 (unsupported). since 0.1 */
    int32_t nesterov;      /**< SGD: 0 or 1, needs momentum > 0 and dampening 0; LARS: unsupported. since 0.1 */
    int32_t centered;      /**< RMSprop: must be 0 (unsupported). since 0.1 */
    int32_t percentile_clipping; /**< Integer in [0, 100]: clip each gradient's norm to this percentile of
                                      its last 100 norms; 100 = off (default). since 0.1 */
    int32_t skip_zeros;    /**< 1: an element whose raw gradient is +0 or -0 is not updated. Default 0. since 0.1 */
    int32_t skip_step_on_nonfinite; /**< 1: a step with any unusable gradient element (NaN, +-Inf, or
                                         |g| >= 2^64, whose square overflows) changes nothing (see
                                         bnb_optimizer_last_step_info). Default 0. since 0.1 */
    int32_t bias_correction; /**< LAMB: must be 1 (0 is unsupported). Default 1. since 0.1 */
    int32_t adam_w_mode;   /**< LAMB: must be 1 (0 is unsupported). Default 1. since 0.1 */
    int32_t paged;         /**< 1: large CUDA states live in managed (pageable) memory, as bitsandbytes'
                                Paged optimizers; the CPU backend ignores it. Default 0. since 0.1 */
    int32_t num_threads;   /**< CPU worker threads for a step, in [0, 1024]: 0 (default) uses the
                                BNB8_NUM_THREADS environment variable when it holds an integer in
                                [1, 1024], else every CPU this process may run on (its affinity mask).
                                Work is split on 256-element block boundaries, across parameters; a
                                step with few blocks uses fewer threads, and 1 starts none. Results
                                are bitwise identical for every count and for every instruction set
                                (BNB8_CPU_ISA=scalar|avx2|avx512, read at the first step, caps the
                                one detected). since 0.1 */
    void* cuda_stream;     /**< The cudaStream_t steps of CUDA parameters run on (NULL: the legacy
                                default stream); bnb_step_on_stream() overrides it per step. Ignored
                                by the CPU backend. since 0.1 */
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
            BNB_DEFAULT_I64, BNB_DEFAULT_F64, BNB_DEFAULT_F64, BNB_DEFAULT_F64, BNB_DEFAULT_F64,    \
            BNB_DEFAULT_F64, BNB_DEFAULT_F64, BNB_DEFAULT_F64, BNB_DEFAULT_F64, BNB_DEFAULT_F64,    \
            BNB_DEFAULT_I32, BNB_DEFAULT_I32, BNB_DEFAULT_I32, BNB_DEFAULT_I32, BNB_DEFAULT_I32,    \
            BNB_DEFAULT_I32, BNB_DEFAULT_I32, BNB_DEFAULT_I32, BNB_DEFAULT_I32, NULL                \
    }

/**
 * Fill the first `struct_size` bytes of *config with the defaults of `algorithm`, and set
 * config->struct_size = struct_size. Only that many bytes are written, so a program built against an
 * older, smaller bnb_optimizer_config stays safe with a newer library; a larger struct (a newer
 * header than the library) gets the library's fields and zeros after them. C and C++ callers use the
 * macro bnb_optimizer_config_init(config, algorithm), which passes sizeof(*config); FFI callers pass
 * the size of the struct they declared. since 0.1
 * @param config       Caller-owned struct to fill; not NULL.
 * @param struct_size  Bytes of the caller's struct; at least BNB_OPTIMIZER_CONFIG_MIN_SIZE.
 * @param algorithm    A bnb_algorithm value.
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT for a NULL config or an unknown algorithm;
 *         BNB_ERR_VERSION for a struct_size below BNB_OPTIMIZER_CONFIG_MIN_SIZE.
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_config_init_sized(bnb_optimizer_config* config, size_t struct_size,
                                                                 int32_t algorithm);

/** bnb_optimizer_config_init_sized() with the size of the caller's struct. since 0.1 */
#define bnb_optimizer_config_init(config, algorithm) \
    bnb_optimizer_config_init_sized((config), sizeof(*(config)), (algorithm))

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
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL pointer, struct_size 0 (a config never passed
 *         to bnb_optimizer_config_init), unknown algorithm, a non-finite value or one out of its
 *         range, lr unset for SGD or LARS, a field that does not apply to the algorithm, nesterov
 *         with momentum 0 or dampening != 0, AdEMAMix t_beta3 > 0 with beta1 or beta3 = 0);
 *         BNB_ERR_VERSION (struct_size from 1 to below BNB_OPTIMIZER_CONFIG_MIN_SIZE);
 *         BNB_ERR_UNSUPPORTED (amsgrad, LAMB without bias correction or AdamW mode, RMSprop momentum
 *         or centered, Adagrad lr_decay or initial_accumulator_value, LARS without momentum or with
 *         dampening or nesterov); BNB_ERR_OUT_OF_MEMORY.
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
 * between steps). The value is validated as in bnb_optimizer_create, together with the group's other
 * values (e.g. SGD nesterov needs momentum > 0); on failure nothing changes. Per-parameter overrides
 * of the same hyper-parameter take precedence over the group's value. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (unknown group or hparam, a hparam the algorithm does not
 *         have, a value out of range or non-finite, a combination the algorithm rejects);
 *         BNB_ERR_UNSUPPORTED (LARS momentum 0); BNB_ERR_INVALID_STATE (SGD momentum switched between
 *         0 and non-zero for a group whose parameters have taken steps: that changes their states).
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
 *               touched), dtype F32, F16 or BF16, device BNB_DEVICE_CPU or a CUDA ordinal (CUDA
 *               builds: device or managed memory on that device; every CUDA parameter of one
 *               optimizer on the same device; see the CUDA section at the end).
 * @param grad   The gradient with the same numel, dtype and device, or NULL: a parameter without a
 *               gradient is skipped by bnb_step() (its states and step counter do not change).
 * @param out_index  Receives the parameter index; may be NULL.
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL param, unknown group, dtype or device, numel < 0,
 *         NULL or misaligned data with numel > 0, a grad whose numel, dtype or device differs from the
 *         param's, a grad that is the param's own buffer or overlaps it, a param that shares a byte
 *         with another parameter's param or grad, a grad that shares a byte with another parameter's
 *         param (gradients may share buffers with each other; a parameter without a grad is not
 *         compared until one is bound), CUDA data that is not device or managed
 *         memory of that device); BNB_ERR_UNSUPPORTED (a CUDA device in a build without the CUDA
 *         backend, a second CUDA device in one optimizer); BNB_ERR_NO_CUDA_DEVICE (no usable CUDA
 *         device with that ordinal: no driver, no GPU, or CUDA_VISIBLE_DEVICES hides it);
 *         BNB_ERR_CUDA; BNB_ERR_OUT_OF_MEMORY.
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_add_param(bnb_optimizer* optimizer, int64_t group,
                                                         const bnb_tensor* param,
                                                         const bnb_tensor* grad, int64_t* out_index);

/**
 * Point a registered parameter at new buffers (e.g. after the framework reallocated them), with the
 * same numel, dtype and device as registered. grad may be NULL: the parameter then has no gradient
 * and is skipped by the next steps until a gradient is bound again. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (unknown index, NULL param, any mismatch with the
 *         registration, or an overlap with the other parameters' buffers, as in
 *         bnb_optimizer_add_param; the old binding stays).
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
    int32_t num_states;  /**< Number of states: 0 to 2 (ALGORITHMS.md §3; SGD without momentum has none). */
    int64_t state_bytes; /**< Bytes of optimizer state held for it: codes or fp32 values, absmax, and
                              the clipping history. */
    double gradient_scale;  /**< Percentile clipping's scale of the last step (1 when not clipped). */
    double trust_ratio;     /**< LAMB/LARS: scale applied to lr at the last step (1 without cap). */
    double update_sq_norm;  /**< LAMB/LARS: squared norm of the last update direction (0 otherwise). */
} bnb_param_info;

/**
 * Fill *out with the description of parameter `index`. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, unknown index); BNB_ERR_VERSION (struct_size below
 *         the size of the v0.1 struct prefix up to numel).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_param_info(const bnb_optimizer* optimizer, int64_t index,
                                                          bnb_param_info* out);

/**
 * Override a hyper-parameter (a bnb_hparam) or an option (a bnb_option) for one parameter only; the
 * override wins over the parameter's group and the config, and is never shared with another
 * parameter. Options that shape the states (optim_bits, min_8bit_size, block_wise,
 * percentile_clipping) may be set in any order before the parameter's first step; other keys take
 * effect at the next step. Setting optim_bits = 32 is how embeddings keep fp32 states (bitsandbytes'
 * StableEmbedding). The value is validated as in the config, together with the parameter's other
 * effective values. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (unknown index or key, a key the algorithm does not have, a
 *         value out of range, a rejected combination); BNB_ERR_UNSUPPORTED (as in the config);
 *         BNB_ERR_INVALID_STATE (a state-shaping option after the first step).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_set_param_override(bnb_optimizer* optimizer, int64_t index,
                                                                  int32_t key, double value);

/**
 * Remove a parameter's override of `key`; the group's or config's value applies again. Removing an
 * override that is not set is not an error. The rules of bnb_optimizer_set_param_override() apply
 * (a state-shaping option cannot change after the first step). since 0.1
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_clear_param_override(bnb_optimizer* optimizer, int64_t index,
                                                                    int32_t key);

/**
 * The value of a hyper-parameter or option as parameter `index` uses it: its override, else its
 * group's value (hyper-parameters) or the config's (options). since 0.1
 * @param out_value        Receives the value; not NULL.
 * @param out_is_override  Receives 1 when the value comes from an override, 0 otherwise; may be NULL.
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_get_param_setting(const bnb_optimizer* optimizer, int64_t index,
                                                                 int32_t key, double* out_value,
                                                                 int32_t* out_is_override);

/**
 * Where one state of a parameter lives, for zero-copy access from bindings (Python tensors, C# spans,
 * Java buffers). Set struct_size = sizeof(bnb_state_view) before the call. since 0.1
 */
typedef struct bnb_state_view {
    size_t struct_size;     /**< sizeof(bnb_state_view), set by the caller. */
    int32_t mode;           /**< bnb_state_mode of the parameter; BNB_STATE_MODE_NONE: no buffers yet. */
    int32_t bits;           /**< 8: data holds uint8 codes; 32: data holds fp32 values. */
    int64_t rows;           /**< Rows of the state (2 for AdEMAMix's state1, else 1). */
    int64_t numel;          /**< Elements per row (the parameter's numel). */
    void* data;             /**< rows x numel codes or values, row-major; NULL before the first step. */
    float* absmax;          /**< 8-bit: rows x absmax_per_row scales, row-major; else NULL. */
    int64_t absmax_per_row; /**< 8-bit: ceil(numel / 256) block-wise, 1 tensor-wise; else 0. */
    const float* qmap;      /**< 8-bit: the 256-entry map the codes use (always host memory); else
                                 NULL. */
    int32_t memory;         /**< A bnb_memory_kind: where data and absmax are (CUDA parameters:
                                 device or managed memory, to wrap as device tensors).
                                 BNB_MEMORY_NONE before the first step. since 0.1 */
    int32_t reserved;       /**< Zero. since 0.1 */
} bnb_state_view;

/**
 * Describe the buffers of state `state` (1 or 2) of a parameter. The pointers stay valid until the
 * optimizer is destroyed or the parameter's states are re-created with another layout by
 * bnb_state_load() or bnb_optimizer_import_param_state() (a load of the same layout writes into the
 * same buffers). Writing through them changes the optimizer's states. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, unknown index or state); BNB_ERR_VERSION
 *         (struct_size too small).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_state_view(bnb_optimizer* optimizer, int64_t index, int32_t state,
                                                          bnb_state_view* out);

/**
 * A parameter's complete optimizer state, given by the caller to bnb_optimizer_import_param_state()
 * (e.g. converted from another library's checkpoint). since 0.1
 */
typedef struct bnb_param_state {
    size_t struct_size;          /**< sizeof(bnb_param_state). */
    int64_t step;                /**< Steps taken, 0 to BNB_MAX_STEP; 0 means no states (mode must be NONE). */
    int32_t mode;                /**< bnb_state_mode; must be what this optimizer keeps for the parameter. */
    int32_t num_states;          /**< States given (what the algorithm has for the parameter). */
    const void* data[2];         /**< Per state: rows x numel uint8 codes (8-bit) or fp32 values (32-bit). */
    const float* absmax[2];      /**< 8-bit: rows x absmax_per_row scales, each >= 0; else NULL. */
    const float* qmap[2];        /**< 8-bit: the 256-entry map each state's codes were written with (it is
                                      validated and kept for the state's life); else NULL. */
    const float* clip_history;   /**< 100 squared gradient norms when percentile clipping is on, else NULL. */
} bnb_param_state;

/**
 * Replace one parameter's step counter and states with copies of the given ones, after validating
 * them as bnb_state_load() does (step counter, mode and state count against the parameter's settings,
 * maps, the range of every value, clipping history). On failure nothing changes. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, unknown index, a mode or count that does not fit, a
 *         missing buffer); BNB_ERR_BAD_FORMAT (a step counter outside [0, BNB_MAX_STEP], an invalid map,
 *         a value out of its range: see bnb_state_load()); BNB_ERR_VERSION
 *         (struct_size too small); BNB_ERR_OUT_OF_MEMORY.
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_import_param_state(bnb_optimizer* optimizer, int64_t index,
                                                                  const bnb_param_state* state);

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

/**
 * Copy percentile clipping's history of a parameter (ALGORITHMS.md §7.3: the last 100 squared gradient
 * norms, h[t % 100] being the newest; bitsandbytes' gnorm_vec) into a caller buffer of exactly 100
 * floats. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, unknown index, dst_count != 100);
 *         BNB_ERR_INVALID_STATE (the parameter keeps no history: percentile clipping is off for it, or
 *         it has not taken its first step).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_copy_clip_history(const bnb_optimizer* optimizer, int64_t index,
                                                                 float* dst, int64_t dst_count);

/* ================================================================================================ */
/* Step                                                                                             */
/* ================================================================================================ */

/**
 * Apply one optimizer step to every registered parameter that has a gradient bound. Each such
 * parameter's step counter advances by one; its states are created at its first step (8-bit when
 * optim_bits is 8 and numel >= min_8bit_size, fp32 otherwise).
 *
 * The step follows ALGORITHMS.md §5: with skip_step_on_nonfinite set, a step whose gradients hold any
 * NaN or +-Inf changes nothing at all; otherwise such elements (and, with skip_zeros, elements whose
 * gradient is +-0) leave their parameter element and states untouched (8-bit states are still
 * requantized against the block's new absmax), and every other element gets the update.
 * bnb_optimizer_last_step_info() reports the count. The floating-point environment
 * is the contract's: if the calling thread has flush-to-zero or denormals-are-zero set, they are
 * cleared for the step and restored afterwards.
 *
 * CUDA parameters are stepped by kernels enqueued on the config's cuda_stream, and bnb_step()
 * returns without waiting for them (see the CUDA section at the end). since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL); BNB_ERR_INVALID_STATE (no parameter registered, or
 *         a parameter with a gradient has taken BNB_MAX_STEP steps; nothing changed);
 *         BNB_ERR_OUT_OF_MEMORY (states could not be created; nothing changed); BNB_ERR_CUDA (a CUDA
 *         call failed, now or asynchronously in an earlier step; the CUDA parameters' values are then
 *         undefined).
 */
BNB_API BNB_NODISCARD bnb_status bnb_step(bnb_optimizer* optimizer);

/** What the last bnb_step() did. Set struct_size = sizeof(bnb_step_info) before the call. since 0.1 */
typedef struct bnb_step_info {
    size_t struct_size;        /**< sizeof(bnb_step_info), set by the caller. */
    int64_t nonfinite_count;   /**< Elements kept as non-finite over all parameters with a gradient: an
                                    unusable gradient (NaN, +-Inf, |g| >= 2^64), or a new parameter,
                                    state or trust-ratio direction that was not finite. With a skipped
                                    step: the unusable gradients. */
    int64_t params_stepped;    /**< Parameters whose step counter advanced. */
    int32_t skipped;           /**< 1: skip_step_on_nonfinite found non-finite gradients (or the AMP
                                    found-inf flag of bnb_optimizer_set_amp_hooks() was set) and the whole
                                    step changed nothing. */
    int32_t reserved;          /**< Zero. */
} bnb_step_info;

/**
 * Report on the last bnb_step() of this optimizer (all zeros before the first). since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL); BNB_ERR_VERSION (struct_size too small).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_last_step_info(const bnb_optimizer* optimizer,
                                                             bnb_step_info* out);

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
 * Files: a new file gets mode 0666 minus the process umask; a regular file replaced keeps its mode.
 * `path` is replaced, not followed: a symbolic link at `path` is replaced by the new file and the file it
 * pointed to is left unchanged. The temporary file is "<path>.tmp-<host>-<pid>-<6 characters>"; each save
 * first removes the temporaries of the same `path` left by killed writers (a process of this host that
 * no longer exists, or a temporary untouched for a day), and leaves every other file alone. The header
 * of a checkpoint is at most 64 KiB + 4 KiB per parameter and per group (src/serialization/FORMAT.md).
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
 * stores each parameter's states the same way. Every byte is validated, as if crafted by an attacker
 * (checksums only catch accidents); on any failure the optimizer is left exactly as it was. Values are
 * range-checked: step counters in [0, BNB_MAX_STEP], fp32 state values finite (second moments, the
 * states quantized with the unsigned map, also >= 0), absmax values finite and >= 0, clipping histories
 * >= 0 and not NaN; the message names the tensor, the index and the value. The file is read with
 * pread() (a file truncated during the load gives BNB_ERR_IO, never a signal); `path` must be a regular
 * file (a FIFO or device is refused without blocking). The load decodes into new states directly: it
 * needs their size plus the header, not a copy of the file. On success the groups' hyper-parameters, the step counters and
 * the states are replaced, so the next step continues bit for bit where the saved optimizer stopped.
 * since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, or a checkpoint that does not fit this optimizer:
 *         algorithm, parameter or group count, element count, dtype, group, state codec);
 *         BNB_ERR_IO (the file cannot be read, is not a regular file, or was truncated during the load);
 *         BNB_ERR_BAD_FORMAT (not a bnb8 checkpoint, truncated, a header above its bound, a repeated
 *         JSON key, a checksum mismatch, an invalid map or value); BNB_ERR_VERSION (a newer major format
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

/**
 * bnb_quantize_blockwise() with any map and block size (bitsandbytes' functional API). The map must be
 * 256 finite, strictly increasing values containing +0.0; it is signed (negative first entry, the sign
 * fix applies) or unsigned (+0.0 first). since 0.1
 * @param map         256 fp32 values.
 * @param block_size  Elements per absmax, >= 1.
 * @param absmax      Output, ceil(src->numel / block_size) floats.
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, block_size < 1, a bad tensor); BNB_ERR_BAD_FORMAT (an
 *         invalid map).
 */
BNB_API BNB_NODISCARD bnb_status bnb_quantize_blockwise_ex(const float* map, const bnb_tensor* src,
                                                           int64_t block_size, uint8_t* codes, float* absmax);

/** bnb_dequantize_blockwise() with any map and block size. since 0.1 */
BNB_API BNB_NODISCARD bnb_status bnb_dequantize_blockwise_ex(const float* map, const uint8_t* codes,
                                                             const float* absmax, int64_t block_size,
                                                             bnb_tensor* dst);

/* ================================================================================================ */
/* CUDA                                                                                             */
/* ================================================================================================ */

/*
 * Parameters registered with a CUDA device (bnb_tensor.device >= 0) are stepped on that GPU by the
 * CUDA backend (builds with BNB_FEATURE_CUDA), with the same numbers as the CPU backend, bit for bit
 * (ALGORITHMS.md §1). All CUDA parameters of one optimizer are on one device; use one optimizer per
 * device. A build with CUDA works without a GPU for CPU parameters and pays nothing for CUDA then.
 *
 * Streams. bnb_step() enqueues the step of the CUDA parameters on the config's cuda_stream (NULL: the
 * legacy default stream) and bnb_step_on_stream() on another one, then returns without waiting: the
 * step is ordered with the caller's other work on that stream (the backward pass that wrote the
 * gradients before it, the next forward pass after it). Consecutive steps on different streams must
 * be ordered by the caller, as any two uses of the same parameters.
 *
 * Waiting. The entry points that read what the device computed wait for the optimizer's device work
 * first: bnb_optimizer_param_info(), bnb_optimizer_last_step_info(), bnb_optimizer_copy_state(),
 * bnb_optimizer_copy_clip_history(), bnb_optimizer_state_view(), bnb_optimizer_import_param_state(),
 * bnb_state_save*(), bnb_state_serialized_size(), bnb_state_load*() and bnb_optimizer_synchronize().
 * Errors of kernels that already ran are reported there (BNB_ERR_CUDA). bnb_step() itself waits only
 * when the optimizer also has CPU parameters and the device may skip the step (AMP found-inf flag,
 * skip_step_on_nonfinite), because the CPU parameters follow the device's decision, or when the host
 * has run 8 skippable steps ahead of the device (step counters stay exact: Note [step candidates] in
 * src/cuda/README.md).
 *
 * Memory (ALGORITHMS.md §9). The states of CUDA parameters live in device memory of their device.
 * With the config's paged = 1, the state values or codes of parameters with at least 100000 elements
 * live in CUDA managed memory instead (absmax arrays and clipping histories stay in device memory);
 * they are prefetched to the device on the step's stream before each step when the device supports
 * concurrent managed access, and bnb_optimizer_page_out_states() moves them back to host memory. A
 * device without managed memory keeps paged states in device memory. Paging never changes results.
 * Everything is freed by bnb_optimizer_destroy().
 */

/** Where a buffer lives (bnb_state_view.memory, bnb_state_location). since 0.1 */
typedef enum bnb_memory_kind {
    BNB_MEMORY_NONE = 0,    /**< No buffer (the parameter has not taken its first step). */
    BNB_MEMORY_HOST = 1,    /**< Host memory: the states of CPU parameters. */
    BNB_MEMORY_DEVICE = 2,  /**< CUDA device memory. */
    BNB_MEMORY_MANAGED = 3  /**< CUDA managed memory: paged states. */
} bnb_memory_kind;

/** bnb_state_location.device when the pages of a managed buffer are not known to be in one place. since 0.1 */
#define BNB_DEVICE_UNKNOWN (-2)

/**
 * The number of usable CUDA devices. Thread-safe. since 0.1
 * @param out_count  Receives the count (>= 1 on success); not NULL.
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL); BNB_ERR_NO_CUDA_DEVICE (none usable; the message
 *         says why: no driver, no GPU, CUDA_VISIBLE_DEVICES hiding them); BNB_ERR_UNSUPPORTED (a build
 *         without the CUDA backend).
 */
BNB_API BNB_NODISCARD bnb_status bnb_cuda_device_count(int32_t* out_count);

/**
 * bnb_step() with the CUDA work enqueued on `cuda_stream` instead of the config's stream, for this
 * step only. CPU parameters are stepped as by bnb_step(). since 0.1
 * @param cuda_stream  A cudaStream_t of the parameters' device, or NULL for the legacy default stream.
 * @return As bnb_step(); BNB_ERR_UNSUPPORTED in a build without the CUDA backend.
 */
BNB_API BNB_NODISCARD bnb_status bnb_step_on_stream(bnb_optimizer* optimizer, void* cuda_stream);

/**
 * Wait until the device has finished every step of the optimizer enqueued so far, and report an error
 * that happened there asynchronously. Without CUDA parameters (or without the CUDA backend) it returns
 * BNB_OK at once. since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL); BNB_ERR_CUDA (a kernel or copy failed; the message
 *         names it); BNB_ERR_INTERNAL (the device found an inconsistency; please report it).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_synchronize(bnb_optimizer* optimizer);

/**
 * Mixed-precision hooks for the CUDA parameters, read by the device when each step runs, so loss
 * scaling needs no host synchronization (torch.cuda.amp.GradScaler with a fused optimizer). They stay
 * set until replaced; pass NULL to remove one. since 0.1
 * @param grad_scale  NULL, or a device pointer to one fp32 value S (the loss scale, on the parameters'
 *                    device): every gradient element g of a CUDA parameter is read as g / S (one IEEE
 *                    division), and that quotient is the raw gradient of ALGORITHMS.md §5.3 (non-finite
 *                    checks, skip_zeros, percentile clipping's norm). The gradients are not modified.
 * @param found_inf   NULL, or a device pointer to one fp32 value: when it is non-zero (or NaN) as the
 *                    step runs, the step changes nothing for the CUDA parameters (parameters, states,
 *                    step counters, clipping histories) and bnb_optimizer_last_step_info() reports
 *                    skipped = 1. CPU parameters of the same optimizer skip too (bnb_step() then waits
 *                    for the flag). A parameter whose first step is skipped keeps fresh states at
 *                    step 0 (bnb_optimizer_param_info() shows its state mode; checkpoints save no
 *                    states for it).
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL optimizer, a pointer that is not device or managed
 *         memory of the parameters' device or is not 4-byte aligned); BNB_ERR_INVALID_STATE (no CUDA
 *         parameter is registered yet: the device is unknown); BNB_ERR_UNSUPPORTED (a build without
 *         the CUDA backend).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_set_amp_hooks(bnb_optimizer* optimizer, const float* grad_scale,
                                                             const float* found_inf);

/** Where the states of one parameter live. Set struct_size = sizeof(bnb_state_location). since 0.1 */
typedef struct bnb_state_location {
    size_t struct_size;  /**< sizeof(bnb_state_location), set by the caller. */
    int32_t memory;      /**< bnb_memory_kind of the state values or codes (the paged part). */
    int32_t aux_memory;  /**< bnb_memory_kind of the absmax arrays and the clipping history. */
    int32_t device;      /**< Where the state values or codes are now: BNB_DEVICE_CPU for host memory,
                              the ordinal for device memory; for managed memory the device they were
                              last prefetched to, BNB_DEVICE_CPU after bnb_optimizer_page_out_states(),
                              BNB_DEVICE_UNKNOWN when they were never prefetched (devices without
                              concurrent managed access migrate pages on demand) or are split. */
    int32_t reserved;    /**< Zero. */
    int64_t bytes;       /**< Bytes of state values or codes. */
} bnb_state_location;

/**
 * Describe where the states of parameter `index` live (waits for the device first). Before the first
 * step every field but struct_size is BNB_MEMORY_NONE, BNB_DEVICE_UNKNOWN or 0. Works in every build
 * (CPU parameters report host memory). since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL, unknown index); BNB_ERR_VERSION (struct_size too
 *         small); BNB_ERR_CUDA.
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_state_location(bnb_optimizer* optimizer, int64_t index,
                                                              bnb_state_location* out);

/**
 * Move the paged (managed-memory) states of the optimizer to host memory, enqueued on the stream of
 * the last step (the config's before the first), e.g. to free GPU memory between phases of training;
 * the next step prefetches them back. Does nothing for states in device memory, and on devices without
 * concurrent managed access (the driver migrates their pages on demand). since 0.1
 * @return BNB_OK; BNB_ERR_INVALID_ARGUMENT (NULL); BNB_ERR_CUDA; BNB_ERR_UNSUPPORTED (a build without
 *         the CUDA backend).
 */
BNB_API BNB_NODISCARD bnb_status bnb_optimizer_page_out_states(bnb_optimizer* optimizer);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BNB8_H */
