// The 256-entry dynamic quantization maps (ALGORITHMS.md §2): the two built-in tables of Appendix A and
// maps loaded from checkpoints, each with its precomputed midpoints and zero code.
#pragma once

#include <cstdint>
#include <memory>

#include "bnb8.h"
#include "rules/quant.hpp"
#include "status.hpp"

namespace bnb {

class QuantMap {
public:
    // Validates 256 values (finite, strictly increasing, containing +0.0; values[0] < 0 for a signed
    // map, values[0] == +0.0 for an unsigned one) and builds the tables. `what` names the map in
    // messages.
    static Status create(const float* values, bnb_qmap_kind kind, const char* what,
                         std::shared_ptr<const QuantMap>* out);

    // The built-in signed (qmap1) or unsigned (qmap2) map; kind must be valid.
    static const std::shared_ptr<const QuantMap>& builtin(bnb_qmap_kind kind);

    bnb_qmap_kind kind() const { return kind_; }
    const float* values() const { return values_; }
    QuantTables tables() const {
        return QuantTables{values_, midpoints_, has_lut_ ? lut_ : nullptr, tiny_code_, zero_code_,
                           kind_ == BNB_QMAP_SIGNED};
    }
    // Whether the bucket table of Note [select lookup] is exact for this map (always, for the built-ins).
    bool has_lut() const { return has_lut_; }

private:
    QuantMap() = default;
    void build_lut();

    alignas(64) float values_[kMapSize];
    alignas(64) float midpoints_[kMapSize];  // 255 midpoints, then +Inf
    uint8_t lut_[kLutSize];
    uint8_t tiny_code_ = 0;
    bool has_lut_ = false;
    uint8_t zero_code_ = 0;
    bnb_qmap_kind kind_ = BNB_QMAP_SIGNED;
};

// Appendix A, as fp32 bit patterns in index order.
extern const uint32_t kQmapSignedBits[kMapSize];
extern const uint32_t kQmapUnsignedBits[kMapSize];

}  // namespace bnb
