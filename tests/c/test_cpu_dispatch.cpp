// The CPU paths give the same bits (ALGORITHMS.md §1.5, Note [CPU threads], Note [lane select table]):
//  - every algorithm variant x state mode x parameter dtype, run for three steps on several tensors at
//    once (sizes 1 to 70001: tails, one block, many blocks, more than one pre-pass run), with NaN, +-Inf,
//    +-0, subnormal and huge gradients (both sides of 2^64), -0.0, subnormal, NaN and huge parameters, all-zero and all-subnormal blocks
//    (zero blocks), an Inf absmax, and states landing exactly on midpoints: the parameters, the
//    checkpoint bytes (every state byte, absmax, clipping history, counter) and the reported counts and
//    norms are identical for every instruction set the machine has, and the AVX-512 lanes on emulated
//    instructions (c/emulated/; every machine), and 1, 2, 3 and 7 threads;
//  - the vector code selection equals quantize_value() for all 2^32 float bit patterns but +-Inf (which
//    the lanes never see: Note [lane select table]), for both maps, through the full and the compact
//    select table (Note [compact select table]);
//  - every path's dequantization equals dequantize() for every code of both maps;
//  - the thread count's resolution (config, BNB8_NUM_THREADS, the CPU count), and the path BNB8_CPU_ISA
//    selects.
// The paths this machine cannot run are listed in the output ("not run here"), never silently passed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
}

#include "bnb8.h"
#include "core/qmap.hpp"
#include "cpu/isa.hpp"
#include "cpu/kernel_table.hpp"
#include "cpu/select_table.hpp"
#include "cpu/thread_pool.hpp"
#include "rules/convert.hpp"
#if defined(BNB_TEST_AVX512_EMULATED)
#include "emulated/avx512_emulated_kernels.hpp"
#endif

namespace {

using bnb::cpu::Isa;

const Isa kIsas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Vbmi};
const int kThreadCounts[] = {1, 2, 3, 7};
const int64_t kSizes[] = {1, 7, 256, 300, 4100, 70001};
constexpr int kSteps = 3;

// A CPU path a step can take: the kernels of an instruction set this machine runs, or the AVX-512
// kernels on emulated intrinsics, which run on any machine.
struct Path {
    std::string name;
    const bnb::cpu::KernelTable* kernels;
};

// The scalar path first.
std::vector<Path> paths_here() {
    std::vector<Path> out;
    for (Isa isa : kIsas) {
        if (bnb::cpu::isa_available(isa)) out.push_back(Path{bnb::cpu::isa_name(isa), &bnb::cpu::kernels_for(isa)});
    }
#if defined(BNB_TEST_AVX512_EMULATED)
    out.push_back(Path{"avx512-emulated", &bnb_test::avx512_emulated_kernels()});
    out.push_back(Path{"avx512vbmi-emulated", &bnb_test::avx512_vbmi_emulated_kernels()});
#endif
    return out;
}

void paths_report(void**) {
    std::string ran, missing;
    for (const Path& path : paths_here()) ran += " " + path.name;
    for (Isa isa : kIsas) {
        if (!bnb::cpu::isa_available(isa)) missing += std::string(" ") + bnb::cpu::isa_name(isa);
    }
#if !defined(BNB_TEST_AVX512_EMULATED)
    missing += " avx512-emulated avx512vbmi-emulated (built without SIMDe)";
#endif
    std::printf("[ INFO     ] CPU paths compared:%s; not run here (machine or build lacks them):%s\n", ran.c_str(),
                missing.empty() ? " none" : missing.c_str());
    assert_true(bnb::cpu::isa_available(Isa::kScalar));
}

// Deterministic inputs ----------------------------------------------------------------------------------

uint64_t next(uint64_t* state) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

float uniform(uint64_t* state) { return static_cast<float>(next(state) >> 40) / 16777216.0f - 0.5f; }

struct Tensor {
    bnb_dtype dtype;
    int64_t numel;
    std::vector<uint8_t> bytes;
    void* data() { return bytes.data(); }
};

size_t dtype_size(bnb_dtype dtype) { return dtype == BNB_DTYPE_F32 ? 4 : 2; }

void put(Tensor* t, int64_t i, float x) {
    uint8_t* dst = t->bytes.data() + static_cast<size_t>(i) * dtype_size(t->dtype);
    if (t->dtype == BNB_DTYPE_F32) {
        std::memcpy(dst, &x, 4);
    } else {
        const uint16_t h = t->dtype == BNB_DTYPE_F16 ? bnb::float_to_f16_bits(x) : bnb::float_to_bf16_bits(x);
        std::memcpy(dst, &h, 2);
    }
}

Tensor make_tensor(bnb_dtype dtype, int64_t numel) {
    return Tensor{dtype, numel, std::vector<uint8_t>(static_cast<size_t>(numel) * dtype_size(dtype))};
}

void fill_params(Tensor* p, uint64_t seed, bool with_nonfinite) {
    for (int64_t i = 0; i < p->numel; ++i) put(p, i, uniform(&seed));
    // -0.0 and subnormal parameters; in one tensor also a NaN and a huge one (Inf in fp16): their new
    // values are not finite, so they are kept and counted, and that tensor's trust-ratio norm is NaN
    // (the other tensors keep a capped trust ratio).
    const float specials[] = {-0.0f, 0.0f, 1e-39f, -3e-40f, __builtin_nanf(""), 3e38f};
    const int64_t count = with_nonfinite ? 6 : 4;
    for (int64_t i = 0; i < count && i * 13 + 3 < p->numel; ++i) put(p, i * 13 + 3, specials[i]);
}

// Gradients of one step; the special patterns sit at fixed places so every mode and dtype meets them.
void fill_grads(Tensor* g, int tensor, int step, const float* signed_midpoints) {
    uint64_t seed = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(tensor * 31 + step + 1);
    const float scale = 0.01f * static_cast<float>(step + 1);
    for (int64_t i = 0; i < g->numel; ++i) put(g, i, scale * uniform(&seed));
    const float specials[] = {__builtin_nanf(""), __builtin_inff(), -__builtin_inff(), 0.0f, -0.0f, 1e-41f, -2e-39f};
    for (int64_t i = 0; i < 7 && i * 37 + 5 < g->numel; ++i) put(g, i * 37 + 5, specials[i]);
    if (tensor == 3 && step == 1) put(g, 17, 3e19f);  // g*g overflows: unusable, counted and kept
    // The usable-gradient boundary (docs/extreme-values.md): the largest float below 2^64 (usable in
    // fp32; bf16 rounds it to 2^64), 2^64 and -1e30 (unusable), and 1.8e19 at the same place every step,
    // whose square is finite but whose Adagrad/Adam sums overflow on the second step (kept after the rule).
    const float extremes[] = {0x1.fffffep63f, 0x1p64f, -1e30f, 1.8e19f};
    for (int64_t i = 0; i < 4 && 264 + i * 41 < g->numel; ++i) put(g, 264 + i * 41, extremes[i]);
    if (g->numel < 14 * 256) return;
    for (int64_t i = 10 * 256; i < 11 * 256; ++i) put(g, i, 0.0f);                         // zero block
    for (int64_t i = 11 * 256; i < 12 * 256; ++i) put(g, i, (i & 1) ? 1e-40f : -3e-41f);  // subnormal block
    // SGD momentum's first step stores buf = g: with a 1.0 in the block, r = 1 and x = g, so these
    // states are exactly the signed map's midpoints (the tie rule) in fp32.
    put(g, 12 * 256, 1.0f);
    for (int64_t i = 1; i < 256; ++i) put(g, 12 * 256 + i, signed_midpoints[(i * 7) % 255]);
}

// The cases ---------------------------------------------------------------------------------------------

struct Case {
    const char* name;
    bnb_algorithm algorithm;
    double lr;          // 0: the algorithm's default
    double momentum;    // < 0: default
    int nesterov;
    double max_unorm;   // < 0: default
    double t_alpha, t_beta3;
    double weight_decay;  // < 0: default
    int skip_zeros;
    int percentile;
};

const Case kCases[] = {
    {"adam", BNB_ALGO_ADAM, 0, -1, 0, -1, 0, 0, 0.01, 0, 100},
    {"adamw_clipped", BNB_ALGO_ADAMW, 0, -1, 0, -1, 0, 0, -1, 0, 5},
    {"sgd", BNB_ALGO_SGD, 0.01, -1, 0, -1, 0, 0, 0.01, 1, 100},
    {"sgd_momentum", BNB_ALGO_SGD, 0.01, 0.9, 0, -1, 0, 0, 0, 0, 100},
    {"sgd_nesterov", BNB_ALGO_SGD, 0.01, 0.9, 1, -1, 0, 0, 0.01, 1, 100},
    {"lion", BNB_ALGO_LION, 1e-4, -1, 0, -1, 0, 0, 0.1, 0, 100},
    {"lamb", BNB_ALGO_LAMB, 0, -1, 0, -1, 0, 0, 0.01, 0, 100},
    {"lamb_no_cap", BNB_ALGO_LAMB, 0, -1, 0, 0, 0, 0, 0, 1, 100},
    {"lars", BNB_ALGO_LARS, 0.1, 0.9, 0, -1, 0, 0, 0.01, 0, 100},
    {"rmsprop", BNB_ALGO_RMSPROP, 0, -1, 0, -1, 0, 0, 0.01, 1, 100},
    {"adagrad", BNB_ALGO_ADAGRAD, 0, -1, 0, -1, 0, 0, 0, 0, 100},
    {"ademamix", BNB_ALGO_ADEMAMIX, 0, -1, 0, -1, 0, 0, 0.01, 0, 100},
    {"ademamix_sched", BNB_ALGO_ADEMAMIX, 0, -1, 0, -1, 5, 5, 0, 1, 100},
};

struct Mode {
    const char* name;
    int bits;
    int block_wise;
};
const Mode kModes[] = {{"32-bit", 32, 1}, {"8-bit block-wise", 8, 1}, {"8-bit tensor-wise", 8, 0}};
const bnb_dtype kDtypes[] = {BNB_DTYPE_F32, BNB_DTYPE_F16, BNB_DTYPE_BF16};

void check(bnb_status status, const char* what) {
    if (status != BNB_OK) fail_msg("%s: %s (%s)", what, bnb_status_string(status), bnb_last_error_message());
}

bnb_optimizer* make_optimizer(const Case& c, const Mode& m, int threads) {
    bnb_optimizer_config cfg;
    check(bnb_optimizer_config_init(&cfg, c.algorithm), "config_init");
    if (c.lr > 0) cfg.lr = c.lr;
    if (c.momentum >= 0) cfg.momentum = c.momentum;
    cfg.nesterov = c.nesterov;
    if (c.max_unorm >= 0) cfg.max_unorm = c.max_unorm;
    cfg.t_alpha = c.t_alpha;
    cfg.t_beta3 = c.t_beta3;
    if (c.weight_decay >= 0) cfg.weight_decay = c.weight_decay;
    cfg.skip_zeros = c.skip_zeros;
    cfg.percentile_clipping = c.percentile;
    cfg.optim_bits = m.bits;
    cfg.block_wise = m.block_wise;
    cfg.min_8bit_size = 0;
    cfg.num_threads = threads;
    bnb_optimizer* opt = nullptr;
    check(bnb_optimizer_create(&cfg, &opt), "optimizer_create");
    return opt;
}

void append(std::vector<uint8_t>* out, const void* data, size_t size) {
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
}

// Runs the case and returns every observable byte: parameters and reports after each step, and the
// checkpoint (all states, absmax, clipping histories, counters) at the end.
std::vector<uint8_t> run(const Case& c, const Mode& m, bnb_dtype dtype, int threads) {
    float midpoints[255];
    float map[256];
    check(bnb_qmap_copy(BNB_QMAP_SIGNED, map), "qmap_copy");
    for (int j = 0; j < 255; ++j) midpoints[j] = (map[j] + map[j + 1]) * 0.5f;
    bnb_optimizer* opt = make_optimizer(c, m, threads);
    std::vector<Tensor> params, grads;
    for (size_t t = 0; t < sizeof kSizes / sizeof kSizes[0]; ++t) {
        params.push_back(make_tensor(dtype, kSizes[t]));
        grads.push_back(make_tensor(dtype, kSizes[t]));
        fill_params(&params.back(), 1000 + t, t == 3);
    }
    for (size_t t = 0; t < params.size(); ++t) {
        const bnb_tensor p{params[t].data(), params[t].numel, dtype, BNB_DEVICE_CPU};
        const bnb_tensor g{grads[t].data(), grads[t].numel, dtype, BNB_DEVICE_CPU};
        check(bnb_optimizer_add_param(opt, 0, &p, &g, nullptr), "add_param");
    }
    std::vector<uint8_t> observed;
    for (int step = 0; step < kSteps; ++step) {
        for (size_t t = 0; t < grads.size(); ++t) fill_grads(&grads[t], static_cast<int>(t), step, midpoints);
        check(bnb_step(opt), "step");
        for (const Tensor& p : params) append(&observed, p.bytes.data(), p.bytes.size());
        bnb_step_info info;
        std::memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        check(bnb_optimizer_last_step_info(opt, &info), "last_step_info");
        append(&observed, &info.nonfinite_count, sizeof info.nonfinite_count);
        for (size_t t = 0; t < params.size(); ++t) {
            bnb_param_info pi;
            std::memset(&pi, 0, sizeof pi);
            pi.struct_size = sizeof pi;
            check(bnb_optimizer_param_info(opt, static_cast<int64_t>(t), &pi), "param_info");
            append(&observed, &pi.gradient_scale, sizeof pi.gradient_scale);
            append(&observed, &pi.trust_ratio, sizeof pi.trust_ratio);
            append(&observed, &pi.update_sq_norm, sizeof pi.update_sq_norm);
        }
    }
    size_t size = 0;
    check(bnb_state_serialized_size(opt, &size), "serialized_size");
    std::vector<uint8_t> checkpoint(size);
    check(bnb_state_save_to_buffer(opt, checkpoint.data(), size, nullptr), "save_to_buffer");
    observed.insert(observed.end(), checkpoint.begin(), checkpoint.end());
    bnb_optimizer_destroy(opt);
    return observed;
}

const char* dtype_name(bnb_dtype dtype) {
    return dtype == BNB_DTYPE_F32 ? "fp32" : dtype == BNB_DTYPE_F16 ? "fp16" : "bf16";
}

// Every mode and dtype of one case: the scalar path on one thread is the reference.
void compare_paths(const Case& c) {
    const std::vector<Path> paths = paths_here();
    int compared = 0;
    for (const Mode& m : kModes) {
        for (bnb_dtype dtype : kDtypes) {
            bnb::cpu::set_kernels_for_testing(paths.front().kernels);
            const std::vector<uint8_t> reference = run(c, m, dtype, 1);
            for (const Path& path : paths) {
                bnb::cpu::set_kernels_for_testing(path.kernels);
                for (int threads : kThreadCounts) {
                    if (&path == &paths.front() && threads == 1) continue;
                    const std::vector<uint8_t> got = run(c, m, dtype, threads);
                    size_t first = 0;
                    while (first < got.size() && first < reference.size() && got[first] == reference[first]) ++first;
                    if (got.size() != reference.size() || first != got.size()) {
                        bnb::cpu::set_kernels_for_testing(nullptr);
                        fail_msg("%s, %s, %s: path %s with %d threads differs from scalar/1 thread at byte %zu of %zu",
                                 c.name, m.name, dtype_name(dtype), path.name.c_str(), threads, first,
                                 reference.size());
                    }
                    ++compared;
                }
            }
        }
    }
    bnb::cpu::set_kernels_for_testing(nullptr);
    std::printf("[ INFO     ] %s: %d runs equal to the scalar path on 1 thread, bit for bit\n", c.name, compared);
}

// Every path's dequantization kernel against dequantize() for every code of both maps, at several
// absmax values (the VBMI byte permutes rebuild each map value from four planes), with and without the
// select table (the lanes fall back to per-lane lookups without it), codes in every lane position.
void paths_dequantize_all_codes(void**) {
    const std::vector<Path> paths = paths_here();
    for (bnb_qmap_kind kind : {BNB_QMAP_SIGNED, BNB_QMAP_UNSIGNED}) {
        const bnb::QuantTables q = bnb::QuantMap::builtin(kind)->tables();
        const bnb::cpu::SelectTable* table = bnb::cpu::select_table_for(q);
        assert_non_null(table);
        alignas(64) uint8_t codes[256];
        alignas(64) float out[256];
        for (int shift = 0; shift < 256; shift += 37) {
            for (int i = 0; i < 256; ++i) codes[i] = static_cast<uint8_t>((i * 151 + shift) & 0xFF);  // a permutation
            for (float absmax : {1.0f, 0.37f, -2.5e-3f, 1e-38f, 3e38f, 0.0f}) {
                for (const Path& path : paths) {
                    for (const bnb::cpu::SelectTable* t : {table, static_cast<const bnb::cpu::SelectTable*>(nullptr)}) {
                        path.kernels->dequantize(q, t, codes, 256, absmax, out);
                        for (int i = 0; i < 256; ++i) {
                            const float want = bnb::dequantize(q, codes[i], absmax);
                            if (bnb::float_to_bits(out[i]) != bnb::float_to_bits(want)) {
                                fail_msg("%s: code %d, absmax %g: %a, not %a", path.name.c_str(), codes[i],
                                         static_cast<double>(absmax), static_cast<double>(out[i]),
                                         static_cast<double>(want));
                            }
                        }
                    }
                }
            }
        }
    }
}

void paths_agree(void** state) { compare_paths(*static_cast<const Case*>(*state)); }

// Code selection over every float ------------------------------------------------------------------------

// Compares, for all 2^32 bit patterns x but +-Inf (one block scaled by r = 1, so the lanes see x
// itself), the scalar rule quantize_value(), the select table's scalar form and every vector path's
// codes. A block with an infinite state has r = 0 and never reaches the table.
void select_all_floats(bnb_qmap_kind kind) {
    const bnb::QuantTables q = bnb::QuantMap::builtin(kind)->tables();
    const bnb::cpu::SelectTable* table = bnb::cpu::select_table_for(q);
    assert_non_null(table);  // the built-in maps have an exact table
    std::vector<const bnb::cpu::KernelTable*> paths;
    std::string names;
    const std::vector<Path> here = paths_here();
    for (size_t i = 1; i < here.size(); ++i) {  // every path but the scalar one
        // The VBMI lanes differ from the plain AVX-512 ones only in dequantization: their quantize_block
        // is the same source, so on emulated instructions (the slow part of this sweep) it runs once.
        if (here[i].name == "avx512vbmi-emulated") continue;
        paths.push_back(here[i].kernels);
        names += " " + here[i].name;
    }
    assert_true(table->has_compact);  // the built-in maps fit the compact table (Note [compact select table])
    names += " compact-table";
    const bnb::BlockScale unit{1.0f, 1.0f, false};
    constexpr int kWorkers = 2;
    uint64_t mismatches[kWorkers] = {};
    uint32_t first_bad[kWorkers] = {};
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
        workers.emplace_back([&, w] {
            float s[256];
            uint8_t codes[256];
            for (uint64_t base = static_cast<uint64_t>(w) << 31; base < (static_cast<uint64_t>(w) + 1) << 31; base += 256) {
                for (int i = 0; i < 256; ++i) {
                    const uint32_t bits = static_cast<uint32_t>(base + static_cast<uint64_t>(i));
                    s[i] = bnb::bits_to_float((bits & 0x7FFFFFFFu) == 0x7F800000u ? 0x7FC00000u : bits);
                }
                uint8_t expected[256];
                for (int i = 0; i < 256; ++i) {
                    expected[i] = bnb::quantize_value(q, s[i], unit);
                    if (bnb::cpu::select_with_table(*table, s[i]) != expected[i] && mismatches[w]++ == 0) {
                        first_bad[w] = bnb::float_to_bits(s[i]);
                    }
                    if (bnb::cpu::select_with_compact_table(*table, s[i]) != expected[i] && mismatches[w]++ == 0) {
                        first_bad[w] = bnb::float_to_bits(s[i]);
                    }
                }
                for (const bnb::cpu::KernelTable* path : paths) {
                    path->quantize(q, table, s, 256, unit, codes);
                    for (int i = 0; i < 256; ++i) {
                        if (codes[i] != expected[i] && mismatches[w]++ == 0) first_bad[w] = bnb::float_to_bits(s[i]);
                    }
                }
            }
        });
    }
    for (std::thread& t : workers) t.join();
    for (int w = 0; w < kWorkers; ++w) {
        if (mismatches[w] != 0) fail_msg("%llu mismatches, first at x = 0x%08X", static_cast<unsigned long long>(mismatches[w]), first_bad[w]);
    }
    std::printf("[ INFO     ] %s map: every float but +-Inf selects the same code through the table and the vector paths:%s\n",
                kind == BNB_QMAP_SIGNED ? "signed" : "unsigned", names.empty() ? " (none here)" : names.c_str());
}

void select_all_floats_signed(void**) { select_all_floats(BNB_QMAP_SIGNED); }
void select_all_floats_unsigned(void**) { select_all_floats(BNB_QMAP_UNSIGNED); }

// Thread counts -------------------------------------------------------------------------------------------

void paths_thread_count(void**) {
    unsetenv("BNB8_NUM_THREADS");
    const int cpus = bnb::cpu::resolve_thread_count(0);
    assert_true(cpus >= 1 && cpus <= 1024);
    assert_int_equal(bnb::cpu::resolve_thread_count(5), 5);
    setenv("BNB8_NUM_THREADS", "3", 1);
    assert_int_equal(bnb::cpu::resolve_thread_count(0), 3);
    assert_int_equal(bnb::cpu::resolve_thread_count(2), 2);  // the config wins over the environment
    for (const char* ignored : {"0", "-2", "abc", "4x", "2000", ""}) {
        setenv("BNB8_NUM_THREADS", ignored, 1);
        assert_int_equal(bnb::cpu::resolve_thread_count(0), cpus);
    }
    unsetenv("BNB8_NUM_THREADS");
}

// BNB8_CPU_ISA caps the path a step takes (src/cpu/isa.hpp): ctest runs this test alone, in a fresh
// process, under each value (tests/CMakeLists.txt), since the variable is read once, at the first step.
void isa_env_cap(void**) {
    const char* value = std::getenv("BNB8_CPU_ISA");
    // Note [path preference]: the faster paths are the ones that need more instructions, so the choice is
    // the highest path the machine has, capped.
    Isa expected = Isa::kScalar;
    for (Isa isa : kIsas) {
        if (bnb::cpu::isa_available(isa)) expected = isa;
    }
    assert_int_equal(static_cast<int>(bnb::cpu::detected_isa()), static_cast<int>(expected));
    const auto cap = [&](const char* name, Isa at_most) {
        if (value != nullptr && std::strcmp(value, name) == 0 && static_cast<int>(expected) > static_cast<int>(at_most)) {
            expected = at_most;
        }
    };
    cap("scalar", Isa::kScalar);
    cap("avx2", Isa::kAvx2);
    cap("avx512", Isa::kAvx512);
    const Isa active = bnb::cpu::active_isa();
    std::printf("[ INFO     ] BNB8_CPU_ISA=%s, detected %s: steps take the %s path\n", value ? value : "(unset)",
                bnb::cpu::isa_name(bnb::cpu::detected_isa()), bnb::cpu::isa_name(active));
    assert_int_equal(static_cast<int>(active), static_cast<int>(expected));
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<CMUnitTest> tests;
    tests.push_back(cmocka_unit_test(paths_report));
    tests.push_back(cmocka_unit_test(paths_thread_count));
    tests.push_back(cmocka_unit_test(paths_dequantize_all_codes));
    std::vector<std::string> names;
    names.reserve(sizeof kCases / sizeof kCases[0]);
    for (const Case& c : kCases) {
        names.push_back(std::string("paths_agree_") + c.name);
        CMUnitTest t = cmocka_unit_test_setup(paths_agree, nullptr);
        t.name = names.back().c_str();
        t.initial_state = const_cast<Case*>(&c);
        tests.push_back(t);
    }
    tests.push_back(cmocka_unit_test(select_all_floats_signed));
    tests.push_back(cmocka_unit_test(select_all_floats_unsigned));
    tests.push_back(cmocka_unit_test(isa_env_cap));
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return _cmocka_run_group_tests("cpu_dispatch", tests.data(), tests.size(), nullptr, nullptr);
}
