// The public header compiles as C++ under strict flags and its types are usable from C++.
#include "bnb8.h"

#include <cstdio>
#include <type_traits>

static_assert(std::is_standard_layout<bnb_optimizer_config>::value, "config must stay a C struct");
static_assert(std::is_trivially_copyable<bnb_tensor>::value, "bnb_tensor must stay a C struct");
static_assert(sizeof(bnb_tensor) == 24, "bnb_tensor is frozen at 24 bytes on LP64");

int main() {
    bnb_optimizer_config cfg = BNB_OPTIMIZER_CONFIG_INIT;
    cfg.algorithm = BNB_ALGO_ADAM;
    bnb_optimizer* opt = nullptr;
    if (bnb_optimizer_create(&cfg, &opt) != BNB_OK) {
        std::fprintf(stderr, "create: %s\n", bnb_last_error_message());
        return 1;
    }
    bnb_optimizer_destroy(opt);
    return 0;
}
