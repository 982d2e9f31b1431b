#include "config.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "names.hpp"

namespace bnb {
namespace {

constexpr int64_t kDefaultMin8BitSize = 4096;
constexpr int32_t kMaxThreads = 1024;

void replace_sentinels(const AlgorithmTraits& algorithm, bnb_optimizer_config* c) {
    bnb_optimizer_config d;
    fill_config_defaults(algorithm, &d);
    double bnb_optimizer_config::*const doubles[] = {
        &bnb_optimizer_config::lr,       &bnb_optimizer_config::beta1,     &bnb_optimizer_config::beta2,
        &bnb_optimizer_config::eps,      &bnb_optimizer_config::weight_decay, &bnb_optimizer_config::beta3,
        &bnb_optimizer_config::alpha,    &bnb_optimizer_config::momentum,  &bnb_optimizer_config::dampening,
        &bnb_optimizer_config::t_alpha,  &bnb_optimizer_config::t_beta3,   &bnb_optimizer_config::max_unorm,
        &bnb_optimizer_config::lr_decay, &bnb_optimizer_config::initial_accumulator_value};
    int32_t bnb_optimizer_config::*const ints[] = {
        &bnb_optimizer_config::optim_bits,  &bnb_optimizer_config::block_wise, &bnb_optimizer_config::amsgrad,
        &bnb_optimizer_config::nesterov,    &bnb_optimizer_config::centered,
        &bnb_optimizer_config::percentile_clipping, &bnb_optimizer_config::skip_zeros,
        &bnb_optimizer_config::skip_step_on_nonfinite, &bnb_optimizer_config::bias_correction,
        &bnb_optimizer_config::adam_w_mode, &bnb_optimizer_config::paged,
        &bnb_optimizer_config::num_threads};
    for (auto field : doubles) {
        if (c->*field == BNB_DEFAULT_F64) c->*field = d.*field;
    }
    for (auto field : ints) {
        if (c->*field == BNB_DEFAULT_I32) c->*field = d.*field;
    }
    if (c->min_8bit_size == BNB_DEFAULT_I64) c->min_8bit_size = d.min_8bit_size;
}

Status check_bool(int32_t value, const char* name) {
    BNB_RETURN_IF(value != 0 && value != 1, BNB_ERR_INVALID_ARGUMENT, "config->%s = %d must be 0 or 1", name, value);
    return Status::ok_status();
}

// A flag whose non-default value requests something the family defines: unsupported where it belongs
// to the algorithm (bnb8 does not implement it), invalid elsewhere (it does not apply).
Status check_feature_flag(const AlgorithmTraits& algorithm, int32_t value, int32_t neutral, const char* name,
                          bool belongs, const char* what) {
    BNB_FORWARD(check_bool(value, name));
    if (value == neutral) return Status::ok_status();
    BNB_RETURN_IF(belongs, BNB_ERR_UNSUPPORTED, "config->%s = %d: %s is not supported for %s", name, value, what,
                  algorithm.name);
    return make_error(BNB_ERR_INVALID_ARGUMENT, "config->%s = %d does not apply to %s (it must be %d)", name, value,
                      algorithm.name, neutral);
}

// Adagrad's lr_decay and initial_accumulator_value: the same rule for a real-valued setting.
Status check_feature_value(const AlgorithmTraits& algorithm, double value, const char* name, bool belongs) {
    BNB_RETURN_IF(!std::isfinite(value), BNB_ERR_INVALID_ARGUMENT, "config->%s = %s is not finite", name,
                  format_double(value).c_str());
    if (value == 0.0) return Status::ok_status();
    BNB_RETURN_IF(belongs, BNB_ERR_UNSUPPORTED, "config->%s = %s: only 0 is supported for %s", name,
                  format_double(value).c_str(), algorithm.name);
    return make_error(BNB_ERR_INVALID_ARGUMENT, "config->%s = %s does not apply to %s (it must be 0)", name,
                      format_double(value).c_str(), algorithm.name);
}

Status check_flags(const AlgorithmTraits& a, const bnb_optimizer_config& c) {
    const bnb_algorithm id = a.id;
    const bool adam_like = id == BNB_ALGO_ADAM || id == BNB_ALGO_ADAMW || id == BNB_ALGO_LAMB;
    BNB_FORWARD(check_feature_flag(a, c.amsgrad, 0, "amsgrad", adam_like, "AMSGrad"));
    if (id == BNB_ALGO_SGD) {
        BNB_FORWARD(check_bool(c.nesterov, "nesterov"));  // its momentum/dampening rule is checked with them
    } else {
        BNB_FORWARD(check_feature_flag(a, c.nesterov, 0, "nesterov", id == BNB_ALGO_LARS, "Nesterov momentum"));
    }
    BNB_FORWARD(check_feature_flag(a, c.centered, 0, "centered", id == BNB_ALGO_RMSPROP, "centered RMSprop"));
    BNB_FORWARD(check_feature_flag(a, c.bias_correction, 1, "bias_correction", id == BNB_ALGO_LAMB,
                                   "LAMB without bias correction"));
    BNB_FORWARD(check_feature_flag(a, c.adam_w_mode, 1, "adam_w_mode", id == BNB_ALGO_LAMB,
                                   "LAMB with coupled (L2) weight decay"));
    BNB_FORWARD(check_feature_value(a, c.lr_decay, "lr_decay", id == BNB_ALGO_ADAGRAD));
    BNB_FORWARD(check_feature_value(a, c.initial_accumulator_value, "initial_accumulator_value", id == BNB_ALGO_ADAGRAD));
    BNB_FORWARD(check_bool(c.skip_step_on_nonfinite, "skip_step_on_nonfinite"));
    BNB_FORWARD(check_bool(c.paged, "paged"));
    BNB_RETURN_IF(c.num_threads < 0 || c.num_threads > kMaxThreads, BNB_ERR_INVALID_ARGUMENT,
                  "config->num_threads = %d is outside [0, %d] (0: automatic)", c.num_threads, kMaxThreads);
    return Status::ok_status();
}

Status read_options(const bnb_optimizer_config& c, Options* out) {
    const struct {
        bnb_option id;
        double value;
    } values[] = {{BNB_OPTION_OPTIM_BITS, static_cast<double>(c.optim_bits)},
                  {BNB_OPTION_BLOCK_WISE, static_cast<double>(c.block_wise)},
                  {BNB_OPTION_PERCENTILE_CLIPPING, static_cast<double>(c.percentile_clipping)},
                  {BNB_OPTION_SKIP_ZEROS, static_cast<double>(c.skip_zeros)}};
    for (const auto& v : values) BNB_FORWARD(set_option(*find_option_field(v.id), v.value, "config->", out));
    // An int64 that a double cannot always hold exactly: checked here, not through set_option().
    BNB_RETURN_IF(c.min_8bit_size < 0, BNB_ERR_INVALID_ARGUMENT, "config->min_8bit_size = %lld must be >= 0",
                  static_cast<long long>(c.min_8bit_size));
    out->min_8bit_size = c.min_8bit_size;
    return Status::ok_status();
}

}  // namespace

void fill_config_defaults(const AlgorithmTraits& algorithm, bnb_optimizer_config* out) {
    const Hparams& h = algorithm.defaults;
    std::memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    out->algorithm = algorithm.id;
    out->optim_bits = 32;
    out->lr = algorithm.lr_required ? BNB_DEFAULT_F64 : h.lr;
    out->beta1 = h.beta1;
    out->beta2 = h.beta2;
    out->eps = h.eps;
    out->weight_decay = h.weight_decay;
    out->block_wise = 1;
    out->amsgrad = 0;
    out->min_8bit_size = kDefaultMin8BitSize;
    out->beta3 = h.beta3;
    out->alpha = h.alpha;
    out->momentum = h.momentum;
    out->dampening = h.dampening;
    out->t_alpha = h.t_alpha;
    out->t_beta3 = h.t_beta3;
    out->max_unorm = h.max_unorm;
    out->lr_decay = 0.0;
    out->initial_accumulator_value = 0.0;
    out->nesterov = 0;
    out->centered = 0;
    out->percentile_clipping = 100;
    out->skip_zeros = 0;
    out->skip_step_on_nonfinite = 0;
    out->bias_correction = 1;
    out->adam_w_mode = 1;
    out->paged = 0;
    out->num_threads = 0;
    out->cuda_stream = nullptr;
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
    BNB_RETURN_IF(algorithm == nullptr, BNB_ERR_INVALID_ARGUMENT, "config->algorithm = %d is not a known algorithm",
                  user->algorithm);

    // Tolerant copy: fields the caller's struct does not have keep the defaults.
    bnb_optimizer_config c;
    fill_config_defaults(*algorithm, &c);
    std::memcpy(&c, user, std::min(size, sizeof c));
    c.struct_size = sizeof c;
    replace_sentinels(*algorithm, &c);
    BNB_RETURN_IF(c.lr == BNB_DEFAULT_F64, BNB_ERR_INVALID_ARGUMENT,
                  "config->lr is not set: %s has no default learning rate", algorithm->name);

    Options options;
    BNB_FORWARD(read_options(c, &options));
    BNB_FORWARD(check_flags(*algorithm, c));
    Hparams h;
    h.lr = c.lr;
    h.beta1 = c.beta1;
    h.beta2 = c.beta2;
    h.beta3 = c.beta3;
    h.eps = c.eps;
    h.weight_decay = c.weight_decay;
    h.alpha = c.alpha;
    h.momentum = c.momentum;
    h.dampening = c.dampening;
    h.t_alpha = c.t_alpha;
    h.t_beta3 = c.t_beta3;
    h.max_unorm = c.max_unorm;
    BNB_FORWARD(check_hparams(*algorithm, h, c.nesterov == 1, "config->"));

    out->algorithm = algorithm;
    out->hparams = h;
    out->options = options;
    out->nesterov = c.nesterov == 1;
    out->skip_step_on_nonfinite = c.skip_step_on_nonfinite == 1;
    out->paged = c.paged == 1;
    out->num_threads = c.num_threads;
    out->cuda_stream = c.cuda_stream;
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
    const Hparams& h = config.hparams;
    const Options& o = config.options;
    c.optim_bits = o.optim_bits;
    c.lr = h.lr;
    c.beta1 = h.beta1;
    c.beta2 = h.beta2;
    c.eps = h.eps;
    c.weight_decay = h.weight_decay;
    c.block_wise = o.block_wise ? 1 : 0;
    c.min_8bit_size = o.min_8bit_size;
    c.beta3 = h.beta3;
    c.alpha = h.alpha;
    c.momentum = h.momentum;
    c.dampening = h.dampening;
    c.t_alpha = h.t_alpha;
    c.t_beta3 = h.t_beta3;
    c.max_unorm = h.max_unorm;
    c.nesterov = config.nesterov ? 1 : 0;
    c.percentile_clipping = o.percentile_clipping;
    c.skip_zeros = o.skip_zeros ? 1 : 0;
    c.skip_step_on_nonfinite = config.skip_step_on_nonfinite ? 1 : 0;
    c.paged = config.paged ? 1 : 0;
    c.num_threads = config.num_threads;
    c.cuda_stream = config.cuda_stream;
    c.struct_size = size;  // the caller's struct keeps its own size
    std::memcpy(out, &c, std::min(size, sizeof c));
    return Status::ok_status();
}

}  // namespace bnb
