/* A program outside the project: built against an installed bnb8 through find_package(bnb8) and through
 * pkg-config, it creates an optimizer, steps once and checks the header matches the library. */
#include <stdio.h>

#include <bnb8.h>

int main(void) {
    float param[300], grad[300];
    for (int i = 0; i < 300; ++i) {
        param[i] = 1.0f;
        grad[i] = 0.5f;
    }
    bnb_optimizer_config cfg;
    bnb_optimizer* opt = NULL;
    bnb_tensor p = {param, 300, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor g = {grad, 300, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    if (bnb_optimizer_config_init(&cfg, BNB_ALGO_ADAMW) != BNB_OK || bnb_optimizer_create(&cfg, &opt) != BNB_OK ||
        bnb_optimizer_add_param(opt, 0, &p, &g, NULL) != BNB_OK || bnb_step(opt) != BNB_OK) {
        fprintf(stderr, "bnb8 call failed: %s\n", bnb_last_error_message());
        return 1;
    }
    bnb_optimizer_destroy(opt);
    if (bnb_version_number() != BNB_VERSION_NUMBER || !(param[0] < 1.0f)) return 1;
    printf("installed bnb8 %s works\n", bnb_version_string());
    return 0;
}
