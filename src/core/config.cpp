#include "config.hpp"

#include <algorithm>
#include <cstring>

#include "names.hpp"

namespace bnb {
namespace {

constexpr int64_t kDefaultMin8BitSize = 4096;

void replace_sentinels(const AlgorithmTraits& algorithm, bnb_optimizer_config* c) {
    bnb_optimizer_config d;
    fill_config_defaults(algorithm, &d);
    if (c->optim_bits == BNB_DEFAULT_I32) c->optim_bits = d.optim_bits;
    if (c->lr == BNB_DEFAULT_F64) c->lr = d.lr;
    if (c->beta1 == BNB_DEFAULT_F64) c->beta1 = d.beta1;
    if (c->beta2 == BNB_DEFAULT_F64) c->beta2 = d.beta2;
    if (c->eps == BNB_DEFAULT_F64) c->eps = d.eps;
    if (c->weight_decay == BNB_DEFAULT_F64) c->weight_decay = d.weight_decay;
    if (c->block_wise == BNB_DEFAULT_I32) c->block_wise = d.block_wise;
    if (c->amsgrad == BNB_DEFAULT_I32) c->amsgrad = d.amsgrad;
    if (c->min_8bit_size == BNB_DEFAULT_I64) c->min_8bit_size = d.min_8bit_size;
}

}  // namespace

void fill_config_defaults(const AlgorithmTraits& algorithm, bnb_optimizer_config* out) {
    std::memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    out->algorithm = algorithm.id;
    out->optim_bits = 32;
    out->lr = algorithm.defaults.lr;
    out->beta1 = algorithm.defaults.beta1;
    out->beta2 = algorithm.defaults.beta2;
    out->eps = algorithm.defaults.eps;
    out->weight_decay = algorithm.defaults.weight_decay;
    out->block_wise = 1;
    out->amsgrad = 0;
    out->min_8bit_size = kDefaultMin8BitSize;
}

Status resolve_config(const bnb_optimizer_config* user, OptimizerConfig* out) {
    BNB_RETURN_IF(user == nullptr, BNB_ERR_INVALID_ARGUMENT, "config is NULL");
    const size_t size = user->struct_size;
    BNB_RETURN_IF(size == 0, BNB_ERR_INVALID_ARGUMENT,
                  "config->struct_size is 0; initialize the config with bnb_optimizer_config_init() "
                  "or BNB_OPTIMIZER_CONFIG_INIT");
    BNB_RETURN_IF(size < BNB_OPTIMIZER_CONFIG_MIN_SIZE, BNB_ERR_VERSION,
                  "config->struct_size = %zu is below the smallest supported config (%zu bytes)", size,
                  static_cast<size_t>(BNB_OPTIMIZER_CONFIG_MIN_SIZE));
    const AlgorithmTraits* algorithm = find_algorithm(user->algorithm);
    BNB_RETURN_IF(algorithm == nullptr, BNB_ERR_INVALID_ARGUMENT,
                  "config->algorithm = %d is not a known algorithm", user->algorithm);

    // Tolerant copy: fields the caller's struct does not have keep the defaults.
    bnb_optimizer_config c;
    fill_config_defaults(*algorithm, &c);
    std::memcpy(&c, user, std::min(size, sizeof c));
    c.struct_size = sizeof c;
    replace_sentinels(*algorithm, &c);

    BNB_RETURN_IF(c.optim_bits != 8 && c.optim_bits != 32, BNB_ERR_INVALID_ARGUMENT,
                  "config->optim_bits = %d must be 8 or 32", c.optim_bits);
    Hparams hparams;
    hparams.lr = c.lr;
    hparams.beta1 = c.beta1;
    hparams.beta2 = c.beta2;
    hparams.eps = c.eps;
    hparams.weight_decay = c.weight_decay;
    for (int i = 0; i < algorithm->num_hparams; ++i) {
        const HparamSpec* spec = find_hparam(*algorithm, algorithm->hparams[i]);
        BNB_FORWARD(check_hparam(*spec, hparams.*(spec->field), "config->"));
    }
    BNB_RETURN_IF(c.block_wise != 0 && c.block_wise != 1, BNB_ERR_INVALID_ARGUMENT,
                  "config->block_wise = %d must be 0 or 1", c.block_wise);
    BNB_RETURN_IF(c.amsgrad != 0 && c.amsgrad != 1, BNB_ERR_INVALID_ARGUMENT,
                  "config->amsgrad = %d must be 0 or 1", c.amsgrad);
    BNB_RETURN_IF(c.amsgrad == 1, BNB_ERR_UNSUPPORTED,
                  "config->amsgrad = 1: AMSGrad is not supported for %s", algorithm->name);
    BNB_RETURN_IF(c.min_8bit_size < 0, BNB_ERR_INVALID_ARGUMENT,
                  "config->min_8bit_size = %lld must be >= 0", static_cast<long long>(c.min_8bit_size));

    out->algorithm = algorithm;
    out->optim_bits = c.optim_bits;
    out->hparams = hparams;
    out->block_wise = c.block_wise == 1;
    out->min_8bit_size = c.min_8bit_size;
    return Status::ok_status();
}

Status export_config(const OptimizerConfig& config, bnb_optimizer_config* out) {
    BNB_RETURN_IF(out == nullptr, BNB_ERR_INVALID_ARGUMENT, "out is NULL");
    const size_t size = out->struct_size;
    BNB_RETURN_IF(size < BNB_OPTIMIZER_CONFIG_MIN_SIZE, BNB_ERR_VERSION,
                  "out->struct_size = %zu is below the smallest supported config (%zu bytes)", size,
                  static_cast<size_t>(BNB_OPTIMIZER_CONFIG_MIN_SIZE));
    bnb_optimizer_config c;
    fill_config_defaults(*config.algorithm, &c);
    c.optim_bits = config.optim_bits;
    c.lr = config.hparams.lr;
    c.beta1 = config.hparams.beta1;
    c.beta2 = config.hparams.beta2;
    c.eps = config.hparams.eps;
    c.weight_decay = config.hparams.weight_decay;
    c.block_wise = config.block_wise ? 1 : 0;
    c.amsgrad = 0;
    c.min_8bit_size = config.min_8bit_size;
    c.struct_size = size;  // the caller's struct keeps its own size
    std::memcpy(out, &c, std::min(size, sizeof c));
    return Status::ok_status();
}

}  // namespace bnb
