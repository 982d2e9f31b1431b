#include "select_table.hpp"

#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace bnb {
namespace cpu {
namespace {

// What a state element gets for a value x of its own sign: the select rule, then the sign fix.
uint8_t code_of(const QuantTables& q, float x) { return sign_fixed_code(q, select_code(q, x), x); }

// Note [compact select table]: finds the range of |top| outside which each sign's entries are constant
// (and never rise), and copies the entries in between.
void build_compact(SelectTable* t) {
    constexpr uint32_t kNoRise = 0xFFFFu << 16;
    constexpr uint32_t kLastFinite = 0x7F7Fu;  // the last bucket below the Inf/NaN exponent
    uint32_t lo = kLastFinite, hi = 0;
    for (uint32_t sign = 0; sign < 2; ++sign) {
        const uint32_t* e = t->entry + (sign << 15);
        uint32_t a = 0;
        while (a < kLastFinite && e[a + 1] == e[0] && (e[0] & kNoRise) == kNoRise) ++a;
        uint32_t b = kLastFinite;
        while (b > 0 && e[b - 1] == e[kLastFinite] && (e[kLastFinite] & kNoRise) == kNoRise) --b;
        if ((e[0] & kNoRise) != kNoRise) a = 0;
        if ((e[kLastFinite] & kNoRise) != kNoRise) b = kLastFinite;
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    t->nan_code = t->entry[0x7FC0u] & 0xFFu;
    t->has_compact = hi >= lo && hi - lo + 1 <= static_cast<uint32_t>(kCompactHalfCapacity);
    if (!t->has_compact) return;
    t->compact_lo = lo;
    t->compact_hi = hi;
    t->compact_half = hi - lo + 1;
    for (uint32_t sign = 0; sign < 2; ++sign) {
        for (uint32_t top = lo; top <= hi; ++top) t->compact[top - lo + sign * t->compact_half] = t->entry[sign << 15 | top];
    }
}

// Fills the table; false if some bucket's code rises more than once.
bool build(const QuantTables& q, SelectTable* t) {
    for (uint32_t top = 0; top < static_cast<uint32_t>(kSelectBuckets); ++top) {
        const bool negative = (top >> 15) != 0;
        // The float at position `low` of the bucket in increasing value order.
        const auto at = [&](uint32_t low) { return bits_to_float((top << 16) | (negative ? 0xFFFFu - low : low)); };
        if ((top & 0x7F80u) == 0x7F80u) {  // NaN's code (the lanes never see +-Inf: Note [lane select table])
            t->entry[top] = 0xFFFFu << 16 | code_of(q, bits_to_float(0x7FC00000u));
            continue;
        }
        const uint32_t first = code_of(q, at(0)), last = code_of(q, at(0xFFFFu));
        if (last < first || last - first > 1) return false;
        uint32_t rise = 0xFFFFu;
        if (last != first) {  // the last position still at `first`: the code is non-decreasing in x
            uint32_t below = 0, above = 0xFFFFu;
            while (above - below > 1) {
                const uint32_t middle = below + (above - below) / 2;
                (code_of(q, at(middle)) == last ? above : below) = middle;
            }
            rise = below;
        }
        t->entry[top] = rise << 16 | first;
    }
    build_compact(t);
    for (int c = 0; c < kMapSize; ++c) {
        const uint32_t bits = float_to_bits(q.values[c]);
        for (int k = 0; k < 4; ++k) t->planes[k][c] = static_cast<uint8_t>(bits >> (8 * k));
    }
    return true;
}

struct CachedTable {
    float values[kMapSize];
    bool is_signed;
    std::unique_ptr<SelectTable> table;  // nullptr: the map has no exact table
};

constexpr size_t kMaxCachedMaps = 16;  // 256 KB each; more distinct maps fall back to quantize_value()

}  // namespace

const SelectTable* select_table_for(const QuantTables& q) {
    static std::mutex mutex;
    // Static storage, so the tables are freed when the process exits or the library is unloaded with
    // dlclose() (a heap-allocated cache would leak 256 KB per map on every unload). The tables never move
    // (unique_ptr), so the pointers handed out stay valid until then; no optimizer can step afterwards.
    static std::vector<CachedTable> cache;
    std::lock_guard<std::mutex> lock(mutex);
    for (const CachedTable& c : cache) {
        if (c.is_signed == q.is_signed && std::memcmp(c.values, q.values, sizeof c.values) == 0) return c.table.get();
    }
    if (cache.size() >= kMaxCachedMaps) return nullptr;
    try {
        CachedTable fresh;
        std::memcpy(fresh.values, q.values, sizeof fresh.values);
        fresh.is_signed = q.is_signed;
        fresh.table.reset(new SelectTable);
        if (!build(q, fresh.table.get())) fresh.table.reset();
        cache.push_back(std::move(fresh));
        return cache.back().table.get();
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}

}  // namespace cpu
}  // namespace bnb
