/* The public header compiles as strict C99 (-std=c99 -Wall -Wextra -pedantic -Werror, set in CMake) and
 * its static initializer and layout promises hold: struct_size comes first, the minimal size covers
 * struct_size and algorithm, and BNB_OPTIMIZER_CONFIG_INIT resolves to the algorithm's defaults. */
#include "bnb8.h"

#include <stdio.h>

int main(void) {
    bnb_optimizer_config cfg = BNB_OPTIMIZER_CONFIG_INIT;
    bnb_optimizer* opt = NULL;
    bnb_optimizer_config out;
    int failures = 0;
    if (offsetof(bnb_optimizer_config, struct_size) != 0) ++failures;
    if (BNB_OPTIMIZER_CONFIG_MIN_SIZE != offsetof(bnb_optimizer_config, algorithm) + sizeof(int32_t)) ++failures;
    if (cfg.struct_size != sizeof(bnb_optimizer_config) || cfg.algorithm != 0) ++failures;
    if (cfg.lr != BNB_DEFAULT_F64 || cfg.optim_bits != BNB_DEFAULT_I32 || cfg.min_8bit_size != BNB_DEFAULT_I64) ++failures;
    cfg.algorithm = BNB_ALGO_ADAMW;
    if (bnb_optimizer_create(&cfg, &opt) != BNB_OK) {
        fprintf(stderr, "create: %s\n", bnb_last_error_message());
        return 1;
    }
    out.struct_size = sizeof out;
    if (bnb_optimizer_get_config(opt, &out) != BNB_OK) ++failures;
    if (out.lr != 1e-3 || out.weight_decay != 1e-2 || out.optim_bits != 32 || out.min_8bit_size != 4096) ++failures;
    bnb_optimizer_destroy(opt);
    if (BNB_VERSION_NUMBER != bnb_version_number()) ++failures;
    if (failures) fprintf(stderr, "%d header checks failed\n", failures);
    return failures != 0;
}
