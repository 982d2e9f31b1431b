#include "checkpoint.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "checksum.hpp"
#include "core/names.hpp"
#include "core/clipping.hpp"
#include "core/overrides.hpp"
#include "core/qmap.hpp"
#include "core/state_import.hpp"
#include "core/rules/quant.hpp"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bnb8 checkpoints store little-endian tensors; big-endian hosts are not supported"
#endif

namespace bnb {
namespace {

using Metadata = std::map<std::string, std::string>;

// Note [fuzzing checksums]: a fuzzer that mutates a file almost never keeps its checksums right, so
// it would only ever exercise the checksum checks. Fuzz builds (and only they: the macro is libFuzzer's
// convention, set by BNB_BUILD_FUZZERS) still compute and read every checksum but do not compare them,
// so mutations reach the validation of metadata, maps and values, and the step after a load.
constexpr bool checksums_enforced() {
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
    return false;
#else
    return true;
#endif
}

std::string param_key(int64_t param, const char* field) { return "p" + std::to_string(param) + "." + field; }

std::string state_tensor(int64_t param, int state) {
    return "p" + std::to_string(param) + ".state" + std::to_string(state + 1);
}

std::string absmax_tensor(int64_t param, int state) {
    return "p" + std::to_string(param) + ".absmax" + std::to_string(state + 1);
}

std::string clip_tensor(int64_t param) { return "p" + std::to_string(param) + ".clip_history"; }

std::string override_key(int64_t param, const char* name) { return "p" + std::to_string(param) + ".override." + name; }

// Each override as "p<i>.override.<name>" = its value.
void describe_overrides(const ParamOverrides& overrides, int64_t index, Metadata* metadata) {
    int count = 0;
    const HparamField* hparams = hparam_fields(&count);
    for (int i = 0; i < count; ++i) {
        if (overrides.hparams_set & (1u << i)) {
            (*metadata)[override_key(index, hparams[i].name)] = format_double(overrides.hparams.*(hparams[i].field));
        }
    }
    const OptionField* options = option_fields(&count);
    for (int i = 0; i < count; ++i) {
        if (overrides.options_set & (1u << i)) {
            (*metadata)[override_key(index, options[i].name)] = format_double(get_option(options[i], overrides.options));
        }
    }
}

std::vector<int64_t> row_shape(int64_t rows, int64_t per_row) {
    if (rows == 1) return {per_row};
    return {rows, per_row};
}

int64_t absmax_per_row(bnb_state_mode mode, int64_t numel) {
    return mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? num_blocks(numel) : 1;
}

struct TensorSignature {
    std::string dtype;
    std::vector<int64_t> shape;
};

template <class Tensors>
std::map<std::string, TensorSignature> signatures(const Tensors& tensors) {
    std::map<std::string, TensorSignature> out;
    for (const auto& t : tensors) out[t.first] = TensorSignature{t.second.dtype, t.second.shape};
    return out;
}

// Covers every metadata entry but itself and every tensor's name, dtype and shape (offsets are checked
// structurally by the container parser, the data by the per-tensor checksums).
uint64_t header_checksum(const Metadata& metadata, const std::map<std::string, TensorSignature>& tensors) {
    std::string text;
    for (const auto& entry : metadata) {
        if (entry.first == "header_checksum") continue;
        text += std::to_string(entry.first.size()) + ":" + entry.first + std::to_string(entry.second.size()) + ":" +
                entry.second + ";";
    }
    for (const auto& entry : tensors) {
        text += "tensor:" + entry.first + ":" + entry.second.dtype;
        for (int64_t d : entry.second.shape) text += "," + std::to_string(d);
        text += ";";
    }
    return checksum64(text.data(), text.size());
}

// ---- reading metadata ------------------------------------------------------------------------------

// A decimal number as the writer prints it: digits only, no sign, space or leading zero, below 10^9.
bool parse_decimal(const std::string& text, int* out) {
    if (text.empty() || text.size() > 9 || (text.size() > 1 && text[0] == '0')) return false;
    int value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    *out = value;
    return true;
}

// "MAJOR.MINOR", strictly (" 1.0", "+1.0", "1.0x", "01.0" are not versions).
bool parse_version(const std::string& text, int* major, int* minor) {
    const size_t dot = text.find('.');
    return dot != std::string::npos && parse_decimal(text.substr(0, dot), major) &&
           parse_decimal(text.substr(dot + 1), minor);
}

class MetadataReader {
public:
    explicit MetadataReader(const Metadata& metadata) : metadata_(metadata) {}

    Status text(const std::string& key, std::string* out) const {
        const auto it = metadata_.find(key);
        BNB_RETURN_IF(it == metadata_.end(), BNB_ERR_BAD_FORMAT, "metadata '%s' is missing", key.c_str());
        *out = it->second;
        return Status::ok_status();
    }

    Status integer(const std::string& key, int64_t min, int64_t max, int64_t* out) const {
        std::string value;
        BNB_FORWARD(text(key, &value));
        int64_t parsed = 0;
        const auto result = std::from_chars(value.data(), value.data() + value.size(), parsed);
        BNB_RETURN_IF(result.ec != std::errc() || result.ptr != value.data() + value.size() || parsed < min ||
                          parsed > max,
                      BNB_ERR_BAD_FORMAT, "metadata '%s' = '%s' is not an integer in [%lld, %lld]", key.c_str(),
                      value.c_str(), static_cast<long long>(min), static_cast<long long>(max));
        *out = parsed;
        return Status::ok_status();
    }

    Status real(const std::string& key, double* out) const {
        std::string value;
        BNB_FORWARD(text(key, &value));
        double parsed = 0;
        const auto result = std::from_chars(value.data(), value.data() + value.size(), parsed);
        BNB_RETURN_IF(result.ec != std::errc() || result.ptr != value.data() + value.size(), BNB_ERR_BAD_FORMAT,
                      "metadata '%s' = '%s' is not a number", key.c_str(), value.c_str());
        *out = parsed;
        return Status::ok_status();
    }

private:
    const Metadata& metadata_;
};

// ---- saving ----------------------------------------------------------------------------------------

struct PlanBuilder {
    Metadata metadata;
    std::vector<TensorOut> f32_tensors;  // written first, so every fp32 tensor stays 4-byte aligned
    std::vector<TensorOut> u8_tensors;
    std::vector<const QuantMap*> maps;
    std::vector<std::unique_ptr<ParamStates>> host_copies;  // of states in CUDA memory, which tensors point into

    std::string map_name(const QuantMap* map) {
        size_t index = 0;
        while (index < maps.size() && maps[index] != map) ++index;
        if (index == maps.size()) maps.push_back(map);
        return "qmap." + std::to_string(index);
    }

    void add(std::vector<TensorOut>& list, std::string name, const char* dtype, std::vector<int64_t> shape,
             const void* data, size_t bytes) {
        metadata["checksum." + name] = checksum_hex(checksum64(data, bytes));
        list.push_back(TensorOut{std::move(name), dtype, std::move(shape), data, bytes});
    }
};

Status describe_param(const Optimizer& optimizer, int64_t index, PlanBuilder* plan) {
    const AlgorithmTraits& algorithm = optimizer.algorithm();
    const ParamEntry& entry = optimizer.param(index);
    auto host_copy = std::make_unique<ParamStates>();
    const ParamStates* readable = nullptr;
    BNB_FORWARD(host_readable(entry.states, host_copy.get(), &readable));
    if (readable == host_copy.get()) plan->host_copies.push_back(std::move(host_copy));
    const ParamStates& states = *readable;
    // Note [states at step 0]: a CUDA parameter whose first step was skipped on the device (AMP found-inf,
    // skip_step_on_nonfinite) keeps its fresh states at step 0; they equal no states, and are saved so.
    const bnb_state_mode mode = entry.step == 0 ? BNB_STATE_MODE_NONE : states.mode;
    const int64_t n = entry.param.numel;
    plan->metadata[param_key(index, "numel")] = std::to_string(n);
    plan->metadata[param_key(index, "dtype")] = dtype_name(entry.param.dtype);
    plan->metadata[param_key(index, "group")] = std::to_string(entry.group);
    plan->metadata[param_key(index, "step")] = std::to_string(entry.step);
    plan->metadata[param_key(index, "state_mode")] = state_mode_name(mode);
    describe_overrides(entry.overrides, index, &plan->metadata);
    if (mode == BNB_STATE_MODE_NONE) return Status::ok_status();
    plan->metadata[param_key(index, "num_states")] = std::to_string(states.num_states);
    if (states.clip_history.size() > 0) {
        plan->add(plan->f32_tensors, clip_tensor(index), "F32", {kClipHistory}, states.clip_history.data(),
                  static_cast<size_t>(states.clip_history.bytes()));
    }
    for (int s = 0; s < states.num_states; ++s) {
        const int64_t rows = algorithm.rows[s];
        if (states.mode == BNB_STATE_MODE_32BIT) {
            plan->add(plan->f32_tensors, state_tensor(index, s), "F32", row_shape(rows, n), states.values[s].data(),
                      static_cast<size_t>(states.values[s].bytes()));
            continue;
        }
        plan->metadata[state_tensor(index, s) + ".qmap"] = plan->map_name(states.maps[s].get());
        plan->add(plan->u8_tensors, state_tensor(index, s), "U8", row_shape(rows, n), states.codes[s].data(),
                  static_cast<size_t>(states.codes[s].bytes()));
        plan->add(plan->f32_tensors, absmax_tensor(index, s), "F32", row_shape(rows, absmax_per_row(states.mode, n)),
                  states.absmax[s].data(), static_cast<size_t>(states.absmax[s].bytes()));
    }
    return Status::ok_status();
}

// ---- loading ---------------------------------------------------------------------------------------

class CheckpointReader {
public:
    CheckpointReader(const Optimizer& optimizer, const ByteSource& source, const SafetensorsView& view)
        : optimizer_(optimizer), algorithm_(optimizer.algorithm()), source_(source), view_(view), meta_(view.metadata) {}

    Status check_header() const {
        std::string format, version, algorithm, stored_checksum;
        BNB_FORWARD(meta_.text("format", &format));
        BNB_RETURN_IF(format != kFormatName, BNB_ERR_BAD_FORMAT, "format = '%s' is not a bnb8 optimizer checkpoint",
                      format.c_str());
        BNB_FORWARD(meta_.text("format_version", &version));
        int major = 0, minor = 0;
        BNB_RETURN_IF(!parse_version(version, &major, &minor) || major < 1, BNB_ERR_BAD_FORMAT,
                      "format_version = '%s' is not MAJOR.MINOR (decimal numbers without sign, space or leading zero)",
                      version.c_str());
        BNB_RETURN_IF(major > kFormatVersionMajor, BNB_ERR_VERSION,
                      "the checkpoint has format version %d.%d; this library (%s) reads format %d.x", major, minor,
                      BNB_VERSION_STRING, kFormatVersionMajor);
        BNB_FORWARD(meta_.text("header_checksum", &stored_checksum));
        BNB_RETURN_IF(checksums_enforced() &&
                          stored_checksum != checksum_hex(header_checksum(view_.metadata, signatures(view_.tensors))),
                      BNB_ERR_BAD_FORMAT, "the header checksum does not match: the header is corrupt");
        BNB_FORWARD(meta_.text("algorithm", &algorithm));
        BNB_RETURN_IF(algorithm != algorithm_.name, BNB_ERR_INVALID_ARGUMENT,
                      "the checkpoint is for algorithm '%s', this optimizer is '%s'", algorithm.c_str(),
                      algorithm_.name);
        int64_t block_size = 0;
        BNB_FORWARD(meta_.integer("block_size", 1, INT32_MAX, &block_size));
        BNB_RETURN_IF(block_size != kBlockSize, BNB_ERR_BAD_FORMAT, "block_size = %lld; bnb8 blocks are %d elements",
                      static_cast<long long>(block_size), kBlockSize);
        int64_t nesterov = 0;
        BNB_FORWARD(meta_.integer("nesterov", 0, 1, &nesterov));
        BNB_RETURN_IF((nesterov == 1) != optimizer_.config().nesterov, BNB_ERR_INVALID_ARGUMENT,
                      "the checkpoint has nesterov = %lld, this optimizer %d", static_cast<long long>(nesterov),
                      optimizer_.config().nesterov ? 1 : 0);
        return Status::ok_status();
    }

    Status read_groups(std::vector<Hparams>* groups) const {
        int64_t count = 0;
        BNB_FORWARD(meta_.integer("groups", 1, INT64_MAX, &count));
        BNB_RETURN_IF(count != optimizer_.group_count(), BNB_ERR_INVALID_ARGUMENT,
                      "the checkpoint has %lld parameter groups, this optimizer %lld", static_cast<long long>(count),
                      static_cast<long long>(optimizer_.group_count()));
        for (int64_t g = 0; g < count; ++g) {
            Hparams h = optimizer_.group_hparams(g);
            const std::string prefix = "group." + std::to_string(g) + ".";
            for (int i = 0; i < algorithm_.num_hparams; ++i) {
                const HparamField* field = find_hparam_field(algorithm_.hparams[i].id);
                double value = 0;
                BNB_FORWARD(meta_.real(prefix + field->name, &value));
                h.*(field->field) = value;
            }
            const Status valid = check_hparams(algorithm_, h, optimizer_.config().nesterov, prefix.c_str());
            BNB_RETURN_IF(!valid.ok(), BNB_ERR_BAD_FORMAT, "%s", valid.message().c_str());
            groups->push_back(h);
        }
        return Status::ok_status();
    }

    Status read_param(int64_t index, const std::vector<Hparams>& groups, LoadedParam* out) {
        const ParamEntry& entry = optimizer_.param(index);
        const int64_t n = entry.param.numel;
        int64_t numel = 0, group = 0, step = 0;
        std::string dtype, mode_name;
        BNB_FORWARD(meta_.integer(param_key(index, "numel"), 0, INT64_MAX, &numel));
        BNB_RETURN_IF(numel != n, BNB_ERR_INVALID_ARGUMENT,
                      "parameter %lld has %lld elements in the checkpoint, %lld in this optimizer",
                      static_cast<long long>(index), static_cast<long long>(numel), static_cast<long long>(n));
        BNB_FORWARD(meta_.text(param_key(index, "dtype"), &dtype));
        BNB_RETURN_IF(dtype != dtype_name(entry.param.dtype), BNB_ERR_INVALID_ARGUMENT,
                      "dtype mismatch: parameter %lld is %s in the checkpoint, %s in this optimizer",
                      static_cast<long long>(index), dtype.c_str(), dtype_name(entry.param.dtype));
        BNB_FORWARD(meta_.integer(param_key(index, "group"), 0, INT64_MAX, &group));
        BNB_RETURN_IF(group != entry.group, BNB_ERR_INVALID_ARGUMENT,
                      "parameter %lld is in group %lld in the checkpoint, group %lld in this optimizer",
                      static_cast<long long>(index), static_cast<long long>(group), static_cast<long long>(entry.group));
        BNB_FORWARD(meta_.integer(param_key(index, "step"), 0, INT64_MAX, &step));
        BNB_FORWARD(meta_.text(param_key(index, "state_mode"), &mode_name));
        const bnb_state_mode mode = parse_mode(mode_name);
        BNB_RETURN_IF(mode_name != state_mode_name(mode), BNB_ERR_BAD_FORMAT,
                      "parameter %lld: state_mode = '%s' is unknown", static_cast<long long>(index), mode_name.c_str());
        ParamOverrides overrides;
        BNB_FORWARD(read_overrides(index, &overrides));
        RawParamState raw;
        raw.step = step;
        raw.mode = mode;
        if (mode != BNB_STATE_MODE_NONE) {
            int64_t num_states = 0;
            BNB_FORWARD(meta_.integer(param_key(index, "num_states"), 0, algorithm_.num_states, &num_states));
            raw.num_states = static_cast<int>(num_states);
            for (int s = 0; s < raw.num_states; ++s) BNB_FORWARD(locate_state(index, s, mode, &raw));
            if (view_.tensors.count(clip_tensor(index)) > 0) {
                BNB_FORWARD(tensor(clip_tensor(index), "F32", {kClipHistory}, &raw.clip_history));
            }
        }
        const std::string source = "parameter " + std::to_string(index);
        return build_param_state(optimizer_, index, groups[static_cast<size_t>(group)], overrides, raw, source.c_str(),
                                 out);
    }

private:
    // Overrides recorded as "p<i>.override.<name>", validated like bnb_optimizer_set_param_override().
    Status read_overrides(int64_t index, ParamOverrides* out) const {
        const std::string owner = "parameter " + std::to_string(index) + " override: ";
        int count = 0;
        const HparamField* hparams = hparam_fields(&count);
        for (int i = 0; i < count; ++i) {
            const std::string key = override_key(index, hparams[i].name);
            if (view_.metadata.count(key) == 0) continue;
            const AlgorithmHparam* spec = find_hparam(algorithm_, hparams[i].id);
            BNB_RETURN_IF(spec == nullptr, BNB_ERR_BAD_FORMAT, "%s: %s has no %s", key.c_str(), algorithm_.name,
                          hparams[i].name);
            double value = 0;
            BNB_FORWARD(meta_.real(key, &value));
            const Status valid = check_hparam(algorithm_, *spec, value, owner.c_str());
            BNB_RETURN_IF(!valid.ok(), BNB_ERR_BAD_FORMAT, "%s", valid.message().c_str());
            out->hparams.*(hparams[i].field) = value;
            out->hparams_set |= 1u << i;
        }
        const OptionField* options = option_fields(&count);
        for (int i = 0; i < count; ++i) {
            const std::string key = override_key(index, options[i].name);
            if (view_.metadata.count(key) == 0) continue;
            double value = 0;
            BNB_FORWARD(meta_.real(key, &value));
            const Status valid = set_option(options[i], value, owner.c_str(), &out->options);
            BNB_RETURN_IF(!valid.ok(), BNB_ERR_BAD_FORMAT, "%s", valid.message().c_str());
            out->options_set |= 1u << i;
        }
        return Status::ok_status();
    }

    static bnb_state_mode parse_mode(const std::string& name) {
        for (int32_t m : {BNB_STATE_MODE_NONE, BNB_STATE_MODE_32BIT, BNB_STATE_MODE_8BIT_BLOCKWISE,
                          BNB_STATE_MODE_8BIT_TENSORWISE}) {
            if (name == state_mode_name(m)) return static_cast<bnb_state_mode>(m);
        }
        return BNB_STATE_MODE_NONE;
    }

    // The tensor `name` with the expected dtype and shape. Its bytes are read (and checked against its
    // checksum, after the copy: what is checked is what is kept) when build_param_state() decodes it.
    Status tensor(const std::string& name, const char* dtype, const std::vector<int64_t>& shape,
                  RawTensor* out) const {
        const auto it = view_.tensors.find(name);
        BNB_RETURN_IF(it == view_.tensors.end(), BNB_ERR_BAD_FORMAT, "tensor '%s' is missing", name.c_str());
        BNB_RETURN_IF(it->second.dtype != dtype || it->second.shape != shape, BNB_ERR_BAD_FORMAT,
                      "tensor '%s' has dtype %s and %zu dimensions, expected %s with the parameter's shape",
                      name.c_str(), it->second.dtype.c_str(), it->second.shape.size(), dtype);
        std::string stored;
        BNB_FORWARD(meta_.text("checksum." + name, &stored));
        const ByteSource& source = source_;
        const TensorIn& t = it->second;
        out->read = [&source, &t, name, stored](void* dst, size_t bytes) -> Status {
            BNB_RETURN_IF(bytes != t.bytes, BNB_ERR_INTERNAL, "tensor '%s': %zu bytes asked, it has %zu", name.c_str(),
                          bytes, t.bytes);
            BNB_FORWARD(source.read(t.offset, dst, bytes));
            BNB_RETURN_IF(checksums_enforced() && stored != checksum_hex(checksum64(dst, bytes)), BNB_ERR_BAD_FORMAT,
                          "tensor '%s' does not match its checksum: the file is corrupt", name.c_str());
            return Status::ok_status();
        };
        return Status::ok_status();
    }

    // Points `raw` at state `state`'s tensors (codes or values, absmax, map), dtypes and shapes checked.
    Status locate_state(int64_t index, int state, bnb_state_mode mode, RawParamState* raw) const {
        const int64_t n = optimizer_.param(index).param.numel;
        const int64_t rows = algorithm_.rows[state];
        if (mode == BNB_STATE_MODE_32BIT) {
            return tensor(state_tensor(index, state), "F32", row_shape(rows, n), &raw->data[state]);
        }
        BNB_FORWARD(tensor(state_tensor(index, state), "U8", row_shape(rows, n), &raw->data[state]));
        BNB_FORWARD(tensor(absmax_tensor(index, state), "F32", row_shape(rows, absmax_per_row(mode, n)),
                           &raw->absmax[state]));
        std::string map_name;
        BNB_FORWARD(meta_.text(state_tensor(index, state) + ".qmap", &map_name));
        return tensor(map_name, "F32", {kMapSize}, &raw->qmap[state]);
    }

    const Optimizer& optimizer_;
    const AlgorithmTraits& algorithm_;
    const ByteSource& source_;
    const SafetensorsView& view_;
    MetadataReader meta_;
};

}  // namespace

Status plan_checkpoint(const Optimizer& optimizer, CheckpointPlan* out) {
    PlanBuilder plan;
    Metadata& m = plan.metadata;
    const OptimizerConfig& config = optimizer.config();
    m["format"] = kFormatName;
    m["format_version"] = std::to_string(kFormatVersionMajor) + "." + std::to_string(kFormatVersionMinor);
    m["library_version"] = BNB_VERSION_STRING;
    m["algorithm"] = optimizer.algorithm().name;
    m["block_size"] = std::to_string(kBlockSize);
    m["optim_bits"] = std::to_string(config.options.optim_bits);
    m["block_wise"] = config.options.block_wise ? "1" : "0";
    m["min_8bit_size"] = std::to_string(config.options.min_8bit_size);
    m["percentile_clipping"] = std::to_string(config.options.percentile_clipping);
    m["skip_zeros"] = config.options.skip_zeros ? "1" : "0";
    m["skip_step_on_nonfinite"] = config.skip_step_on_nonfinite ? "1" : "0";
    m["nesterov"] = config.nesterov ? "1" : "0";
    m["groups"] = std::to_string(optimizer.group_count());
    const AlgorithmTraits& algorithm = optimizer.algorithm();
    for (int64_t g = 0; g < optimizer.group_count(); ++g) {
        for (int i = 0; i < algorithm.num_hparams; ++i) {
            const HparamField* field = find_hparam_field(algorithm.hparams[i].id);
            m["group." + std::to_string(g) + "." + field->name] = format_double(optimizer.group_hparams(g).*(field->field));
        }
    }
    m["params"] = std::to_string(optimizer.param_count());
    for (int64_t i = 0; i < optimizer.param_count(); ++i) BNB_FORWARD(describe_param(optimizer, i, &plan));

    std::vector<TensorOut> tensors;
    for (size_t j = 0; j < plan.maps.size(); ++j) {
        plan.add(tensors, "qmap." + std::to_string(j), "F32", {kMapSize}, plan.maps[j]->values(),
                 sizeof(float) * kMapSize);
    }
    for (TensorOut& t : plan.f32_tensors) tensors.push_back(std::move(t));
    for (TensorOut& t : plan.u8_tensors) tensors.push_back(std::move(t));
    std::map<std::string, TensorSignature> table;
    for (const TensorOut& t : tensors) table[t.name] = TensorSignature{t.dtype, t.shape};
    m["header_checksum"] = checksum_hex(header_checksum(m, table));
    BNB_FORWARD(plan_safetensors(m, std::move(tensors), &out->file));
    const size_t bound = max_checkpoint_header(optimizer.param_count(), optimizer.group_count());
    BNB_RETURN_IF(out->file.prefix.size() - 8 > bound, BNB_ERR_UNSUPPORTED,
                  "the checkpoint header would be %zu bytes, above the %zu a reader accepts for %lld parameters and "
                  "%lld groups (FORMAT.md)",
                  out->file.prefix.size() - 8, bound, static_cast<long long>(optimizer.param_count()),
                  static_cast<long long>(optimizer.group_count()));
    out->host_copies = std::move(plan.host_copies);
    return Status::ok_status();
}

size_t max_checkpoint_header(int64_t params, int64_t groups) {
    const uint64_t entries = static_cast<uint64_t>(params > 0 ? params : 0) + static_cast<uint64_t>(groups > 0 ? groups : 0);
    const uint64_t bound = kHeaderBase + kHeaderPerEntry * entries;
    return bound < kMaxSafetensorsHeader ? static_cast<size_t>(bound) : kMaxSafetensorsHeader;
}

Status load_checkpoint(Optimizer& optimizer, const ByteSource& source) {
    SafetensorsView view;
    BNB_FORWARD(parse_safetensors(source, max_checkpoint_header(optimizer.param_count(), optimizer.group_count()),
                                  &view));
    CheckpointReader reader(optimizer, source, view);
    BNB_FORWARD(reader.check_header());
    std::vector<Hparams> groups;
    BNB_FORWARD(reader.read_groups(&groups));
    MetadataReader meta(view.metadata);
    int64_t count = 0;
    BNB_FORWARD(meta.integer("params", 0, INT64_MAX, &count));
    BNB_RETURN_IF(count != optimizer.param_count(), BNB_ERR_INVALID_ARGUMENT,
                  "the checkpoint has %lld parameters, this optimizer %lld", static_cast<long long>(count),
                  static_cast<long long>(optimizer.param_count()));
    // Every parameter's new states are decoded and validated before any is installed (a failure frees
    // them and leaves the optimizer as it was); no copy of the file is held.
    std::vector<LoadedParam> params(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) BNB_FORWARD(reader.read_param(i, groups, &params[static_cast<size_t>(i)]));
    optimizer.install_state(std::move(groups), std::move(params));
    return Status::ok_status();
}

Status load_checkpoint(Optimizer& optimizer, const uint8_t* data, size_t size) {
    return load_checkpoint(optimizer, MemorySource(data, size));
}

}  // namespace bnb
