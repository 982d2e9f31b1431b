/* bnb8 loaded at run time with dlopen(), as plugins and language runtimes do: no link-time dependency,
 * only the header for the types. Usage: dlopen_step [path/to/libbnb8.so.0] */
#include <bnb8.h>
#include <dlfcn.h>
#include <stdio.h>

typedef bnb_status (*config_init_fn)(bnb_optimizer_config*, size_t, int32_t);
typedef bnb_status (*create_fn)(const bnb_optimizer_config*, bnb_optimizer**);
typedef bnb_status (*add_param_fn)(bnb_optimizer*, int64_t, const bnb_tensor*, const bnb_tensor*, int64_t*);
typedef bnb_status (*step_fn)(bnb_optimizer*);
typedef void (*destroy_fn)(bnb_optimizer*);
typedef const char* (*message_fn)(void);
typedef int32_t (*version_fn)(void);

static float weights[4096], grads[4096];

int main(int argc, char** argv) {
    void* lib = dlopen(argc > 1 ? argv[1] : "libbnb8.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) return fprintf(stderr, "dlopen: %s\n", dlerror()), 1;
    /* POSIX guarantees that a dlsym() result converts to a function pointer through this union. */
    union { void* object; config_init_fn config_init; create_fn create; add_param_fn add_param; step_fn step;
            destroy_fn destroy; message_fn message; version_fn version; } config_init, create, add_param, step,
        destroy, message, version;
    config_init.object = dlsym(lib, "bnb_optimizer_config_init_sized");
    create.object = dlsym(lib, "bnb_optimizer_create");
    add_param.object = dlsym(lib, "bnb_optimizer_add_param");
    step.object = dlsym(lib, "bnb_step");
    destroy.object = dlsym(lib, "bnb_optimizer_destroy");
    message.object = dlsym(lib, "bnb_last_error_message");
    version.object = dlsym(lib, "bnb_version_number");
    if (!config_init.object || !create.object || !add_param.object || !step.object || !destroy.object ||
        !message.object || !version.object)
        return fprintf(stderr, "dlsym: %s\n", dlerror()), 1;
    if (version.version() / 10000 != BNB_VERSION_MAJOR)
        return fprintf(stderr, "libbnb8 major version %d, header %d\n", version.version() / 10000, BNB_VERSION_MAJOR), 1;

    bnb_optimizer_config cfg;
    bnb_optimizer* opt = NULL;
    bnb_tensor w = {weights, 4096, BNB_DTYPE_F32, BNB_DEVICE_CPU}, g = {grads, 4096, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    double start = 0.0, sum = 0.0;
    for (int i = 0; i < 4096; ++i) {
        weights[i] = (float)(i % 17) - 8.0f;
        start += (double)weights[i] * weights[i];
    }
    if (config_init.config_init(&cfg, sizeof cfg, BNB_ALGO_LION) != BNB_OK) return 1;
    cfg.optim_bits = 8;
    cfg.lr = 0.1;
    if (create.create(&cfg, &opt) != BNB_OK || add_param.add_param(opt, 0, &w, &g, NULL) != BNB_OK)
        return fprintf(stderr, "%s\n", message.message()), 1;
    for (int s = 0; s < 20; ++s) {
        for (int i = 0; i < 4096; ++i) grads[i] = weights[i]; /* gradient of sum(w^2) / 2 */
        if (step.step(opt) != BNB_OK) return fprintf(stderr, "%s\n", message.message()), 1;
    }
    for (int i = 0; i < 4096; ++i) sum += (double)weights[i] * weights[i];
    printf("Lion 8-bit through dlopen: sum(w^2) = %.1f after 20 steps (started at %.1f)\n", sum, start);
    destroy.destroy(opt);
    dlclose(lib);
    return sum < start ? 0 : 1;
}
