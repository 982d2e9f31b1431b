#include <bnb8.h>
#include <stdio.h>
static float weights[1 << 20], grads[1 << 20]; /* your model's parameter and gradient buffers */

int main(void) {
    bnb_optimizer_config cfg;
    bnb_optimizer* opt = NULL;
    bnb_tensor w = {weights, 1 << 20, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor g = {grads, 1 << 20, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    if (bnb_optimizer_config_init(&cfg, BNB_ALGO_ADAMW) != BNB_OK) return 1; /* lr 1e-3, wd 1e-2 */
    cfg.optim_bits = 8;                                                         /* 8-bit states */
    if (bnb_optimizer_create(&cfg, &opt) != BNB_OK || bnb_optimizer_add_param(opt, 0, &w, &g, NULL) != BNB_OK)
        return fprintf(stderr, "%s\n", bnb_last_error_message()), 1;
    for (int step = 0; step < 10; ++step) { /* your forward and backward passes fill grads here */
        if (bnb_step(opt) != BNB_OK) return fprintf(stderr, "%s\n", bnb_last_error_message()), 1;
    }
    if (bnb_state_save(opt, "optimizer.safetensors") != BNB_OK) return fprintf(stderr, "%s\n", bnb_last_error_message()), 1;
    bnb_optimizer_destroy(opt);
    return 0;
}
