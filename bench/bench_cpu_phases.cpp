// Where an 8-bit CPU step spends its time: cycles per element of each phase of the block kernel, on
// one thread, for every instruction set this machine runs. The phases are timed through the kernel
// table (src/cpu/kernel_table.hpp), the same code bnb_step() runs:
//   - dequantize: codes -> fp32 states (one state row);
//   - quantize: fp32 states -> codes through the select table (one state row, blocks scaled by r = 1);
//   - update (L2): the whole update pass of 8-bit block-wise AdamW over 64 blocks that stay in cache:
//     load p and g, dequantize both states, prologue and rule, absmax, store p, quantize both states;
//   - rule + loads/stores (L2) = update - 2 dequantize - 2 quantize: the arithmetic and scratch traffic;
//   - update (memory): the same pass over --numel elements (default 32M), which adds memory traffic;
//   - 32-bit AdamW update (L2 and memory) for comparison.
// Cycles are TSC ticks (constant rate; `perf stat -e cycles` gives core cycles for the same run).
//
// The memory passes' buffers are ordinary std::vector memory (4 KiB pages) unless --huge-pages, which
// allocates them as bnb8 allocates its states (2 MiB aligned, transparent huge pages requested; what
// bench_cpu.py's numpy arrays get too): the difference is the TLB misses of streaming on 4 KiB pages.
//
//   bench_cpu_phases [--numel N] [--huge-pages] [--isa NAME]
// (BNB8_CPU_ISA does not apply: every available path is run, or only NAME's.)
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/host_memory.hpp"
#include "core/qmap.hpp"
#include "cpu/isa.hpp"
#include "cpu/kernel_table.hpp"
#include "cpu/select_table.hpp"

namespace {

using bnb::cpu::Isa;

struct Timing {
    double ticks_per_elem;
    double ns_per_elem;
};

// Best of `reps` runs of f(), which processes `elems` elements.
template <class Fn>
Timing best_of(int reps, int64_t elems, Fn f) {
    Timing best{1e30, 1e30};
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        const uint64_t c0 = __rdtsc();
        f();
        const uint64_t c1 = __rdtsc();
        const auto t1 = std::chrono::steady_clock::now();
        const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
        best.ticks_per_elem = std::min(best.ticks_per_elem, static_cast<double>(c1 - c0) / static_cast<double>(elems));
        best.ns_per_elem = std::min(best.ns_per_elem, ns / static_cast<double>(elems));
    }
    return best;
}

// std::allocator, or bnb::host_allocate() (huge pages) when g_huge_pages.
bool g_huge_pages = false;
template <class V>
struct BenchAllocator {
    using value_type = V;
    BenchAllocator() = default;
    template <class U>
    BenchAllocator(const BenchAllocator<U>&) {}
    V* allocate(size_t n) {
        if (!g_huge_pages) return std::allocator<V>().allocate(n);
        void* data = bnb::host_allocate(n * sizeof(V));
        if (data == nullptr) {
            std::fprintf(stderr, "bench_cpu_phases: out of memory\n");
            std::exit(1);
        }
        return static_cast<V*>(data);
    }
    void deallocate(V* data, size_t n) {
        if (g_huge_pages) {
            bnb::host_release(data);
        } else {
            std::allocator<V>().deallocate(data, n);
        }
    }
    friend bool operator==(const BenchAllocator&, const BenchAllocator&) { return true; }
    friend bool operator!=(const BenchAllocator&, const BenchAllocator&) { return false; }
};
template <class V>
using Buffer = std::vector<V, BenchAllocator<V>>;

uint64_t g_seed = 0x2545F4914F6CDD1Dull;
float uniform() {
    g_seed ^= g_seed << 13;
    g_seed ^= g_seed >> 7;
    g_seed ^= g_seed << 17;
    return static_cast<float>(g_seed >> 40) / 16777216.0f - 0.5f;
}

// The buffers of one fp32 parameter with AdamW states in 8-bit block-wise or 32-bit mode.
struct Param {
    int64_t n;
    Buffer<float> p, g, m32, v32, absmax_m, absmax_v;
    Buffer<uint8_t> m8, v8;

    explicit Param(int64_t numel)
        : n(numel), p(numel), g(numel), m32(numel, 0.0f), v32(numel, 0.0f),
          absmax_m(bnb::num_blocks(numel), 0.0f), absmax_v(bnb::num_blocks(numel), 0.0f), m8(numel, 127),
          v8(numel, 0) {
        for (int64_t i = 0; i < n; ++i) {
            p[i] = 0.2f * uniform();
            g[i] = 0.02f * uniform();
        }
    }

    bnb::cpu::PassArgs args(bool eight_bit, const bnb::QuantTables& signed_q, const bnb::QuantTables& unsigned_q) {
        bnb::cpu::PassArgs a{};
        bnb::cpu::ParamStepView& v = a.view;
        v.param = p.data();
        v.grad = g.data();
        v.numel = n;
        v.dtype = BNB_DTYPE_F32;
        v.mode = eight_bit ? BNB_STATE_MODE_8BIT_BLOCKWISE : BNB_STATE_MODE_32BIT;
        v.values[0] = m32.data();
        v.values[1] = v32.data();
        v.rows[0] = bnb::cpu::QuantRow{m8.data(), absmax_m.data(), signed_q};
        v.rows[1] = bnb::cpu::QuantRow{v8.data(), absmax_v.data(), unsigned_q};
        a.select[0] = bnb::cpu::select_table_for(signed_q);
        a.select[1] = bnb::cpu::select_table_for(unsigned_q);
        // AdamW, lr 1e-3, betas 0.9/0.999, eps 1e-8, wd 1e-2, a late step (bias corrections near 1).
        bnb::StepScalars& k = a.k;
        k.lr = 1e-3f;
        k.eps = 1e-8f;
        k.wd = 1e-2f;
        k.b1 = 0.9f;
        k.b2 = 0.999f;
        k.nb1 = 0.1f;
        k.nb2 = 0.001f;
        k.ic1 = 1.0f;
        k.ic2 = 1.0f;
        k.ss = 1e-3f;
        k.dec = 1.0f - 1e-5f;
        k.gs = 1.0f;
        k.lrs = 1e-3f;
        k.t = 100;
        return a;
    }
};

void run_path(Isa isa, int64_t big) {
    const bnb::cpu::KernelTable& table = bnb::cpu::kernels_for(isa);
    const bnb::QuantTables sq = bnb::QuantMap::builtin(BNB_QMAP_SIGNED)->tables();
    const bnb::QuantTables uq = bnb::QuantMap::builtin(BNB_QMAP_UNSIGNED)->tables();
    const bnb::cpu::SelectTable* select = bnb::cpu::select_table_for(sq);

    // Phase kernels on 64 blocks (16K elements: 64 KiB of floats, in L2), many passes.
    constexpr int kBlocks = 64, kPasses = 50;
    constexpr int64_t kSmall = kBlocks * bnb::kBlockSize;
    std::vector<float> s(kSmall), out(kSmall);
    std::vector<uint8_t> codes(kSmall);
    for (float& x : s) x = 2.0f * uniform();  // in [-1, 1]: scaled by r = 1
    const bnb::BlockScale unit{1.0f, 1.0f, false};
    const Timing quantize = best_of(7, kSmall * kPasses, [&] {
        for (int pass = 0; pass < kPasses; ++pass) {
            for (int b = 0; b < kBlocks; ++b) {
                table.quantize(sq, select, s.data() + b * bnb::kBlockSize, bnb::kBlockSize, unit,
                               codes.data() + b * bnb::kBlockSize);
            }
        }
    });
    const Timing dequantize = best_of(7, kSmall * kPasses, [&] {
        for (int pass = 0; pass < kPasses; ++pass) {
            for (int b = 0; b < kBlocks; ++b) {
                table.dequantize(sq, select, codes.data() + b * bnb::kBlockSize, bnb::kBlockSize, 0.5f,
                                 out.data() + b * bnb::kBlockSize);
            }
        }
    });

    const bnb::cpu::PassKernels adamw = table.kernels[static_cast<int>(bnb::RuleId::kAdamW)][0];
    const auto update = [&](Param& prm, bool eight_bit, int passes) {
        const bnb::cpu::PassArgs a = prm.args(eight_bit, sq, uq);
        return best_of(5, prm.n * passes, [&] {
            for (int pass = 0; pass < passes; ++pass) adamw.update(a, 0, bnb::num_blocks(prm.n));
        });
    };
    Param small(kSmall), large(big);
    update(small, true, 1);  // first touch and states away from zero
    update(large, true, 1);
    const Timing u8_l2 = update(small, true, kPasses);
    const Timing u8_mem = update(large, true, 1);
    const Timing u32_l2 = update(small, false, kPasses);
    const Timing u32_mem = update(large, false, 1);

    const double rest = u8_l2.ticks_per_elem - 2 * dequantize.ticks_per_elem - 2 * quantize.ticks_per_elem;
    std::printf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f (%.2f ns) | %.2f | %.2f (%.2f ns) |\n",
                bnb::cpu::isa_name(isa), dequantize.ticks_per_elem, quantize.ticks_per_elem, rest,
                u8_l2.ticks_per_elem, u8_mem.ticks_per_elem, u8_mem.ns_per_elem, u32_l2.ticks_per_elem,
                u32_mem.ticks_per_elem, u32_mem.ns_per_elem);
}

}  // namespace

int main(int argc, char** argv) {
    int64_t big = int64_t{32} << 20;
    const char* only = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--numel") == 0 && i + 1 < argc) {
            big = std::atoll(argv[++i]);
        } else if (std::strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (std::strcmp(argv[i], "--huge-pages") == 0) {
            g_huge_pages = true;
        } else {
            std::fprintf(stderr, "usage: %s [--numel N] [--huge-pages] [--isa NAME]\n", argv[0]);
            return 2;
        }
    }
    if (big < 256) big = 256;
    std::printf("TSC ticks per element, one thread, best of 5-7 runs; 8-bit block-wise and 32-bit AdamW, fp32 "
                "params; memory pass over %lld elements on %s\n\n",
                static_cast<long long>(big), g_huge_pages ? "huge pages (requested)" : "4 KiB pages");
    std::printf("| path | dequantize (1 state) | quantize (1 state) | rule + loads/stores | 8-bit update, L2 "
                "| 8-bit update, memory | 32-bit update, L2 | 32-bit update, memory |\n");
    std::printf("|---|--:|--:|--:|--:|--:|--:|--:|\n");
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Vbmi}) {
        if (only != nullptr && std::strcmp(only, bnb::cpu::isa_name(isa)) != 0) continue;
        if (bnb::cpu::isa_available(isa)) {
            run_path(isa, big);
        } else {
            std::printf("| %s | not available on this machine or build | | | | | | |\n", bnb::cpu::isa_name(isa));
        }
    }
    return 0;
}
