#include "overrides.hpp"

namespace bnb {

int hparam_bit(int32_t key) {
    int count = 0;
    const HparamField* fields = hparam_fields(&count);
    for (int i = 0; i < count; ++i) {
        if (fields[i].id == key) return i;
    }
    return -1;
}

int option_bit(int32_t key) {
    int count = 0;
    const OptionField* fields = option_fields(&count);
    for (int i = 0; i < count; ++i) {
        if (fields[i].id == key) return i;
    }
    return -1;
}

Hparams effective_hparams(const Hparams& group, const ParamOverrides& overrides) {
    Hparams h = group;
    int count = 0;
    const HparamField* fields = hparam_fields(&count);
    for (int i = 0; i < count; ++i) {
        if (overrides.hparams_set & (1u << i)) h.*(fields[i].field) = overrides.hparams.*(fields[i].field);
    }
    return h;
}

Options effective_options(const Options& config, const ParamOverrides& overrides) {
    Options o = config;
    int count = 0;
    const OptionField* fields = option_fields(&count);
    for (int i = 0; i < count; ++i) {
        if (overrides.options_set & (1u << i)) copy_option(fields[i], overrides.options, &o);
    }
    return o;
}

}  // namespace bnb
