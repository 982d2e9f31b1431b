#include "qmap.hpp"

#include <cmath>
#include <limits>

#include "names.hpp"
#include "rules/convert.hpp"

namespace bnb {
namespace {

std::shared_ptr<const QuantMap> make_builtin(bnb_qmap_kind kind) {
    const uint32_t* bits = kind == BNB_QMAP_SIGNED ? kQmapSignedBits : kQmapUnsignedBits;
    float values[kMapSize];
    for (int i = 0; i < kMapSize; ++i) values[i] = bits_to_float(bits[i]);
    std::shared_ptr<const QuantMap> map;
    const Status status = QuantMap::create(values, kind, "built-in map", &map);
    (void)status;  // the Appendix A tables are valid; test_qmap checks them bit for bit
    return map;
}

}  // namespace

Status QuantMap::create(const float* values, bnb_qmap_kind kind, const char* what,
                        std::shared_ptr<const QuantMap>* out) {
    BNB_RETURN_IF(kind != BNB_QMAP_SIGNED && kind != BNB_QMAP_UNSIGNED, BNB_ERR_INVALID_ARGUMENT,
                  "%s: map kind %d is unknown", what, static_cast<int>(kind));
    int zero_index = -1;
    for (int i = 0; i < kMapSize; ++i) {
        BNB_RETURN_IF(!std::isfinite(values[i]), BNB_ERR_BAD_FORMAT, "%s: entry %d = %s is not finite",
                      what, i, format_double(values[i]).c_str());
        BNB_RETURN_IF(i > 0 && !(values[i - 1] < values[i]), BNB_ERR_BAD_FORMAT,
                      "%s: entries %d and %d (%s, %s) are not strictly increasing", what, i - 1, i,
                      format_double(values[i - 1]).c_str(), format_double(values[i]).c_str());
        if (float_to_bits(values[i]) == 0u) zero_index = i;
    }
    BNB_RETURN_IF(zero_index < 0, BNB_ERR_BAD_FORMAT, "%s: does not contain +0.0", what);
    if (kind == BNB_QMAP_SIGNED) {
        BNB_RETURN_IF(!(values[0] < 0.0f), BNB_ERR_BAD_FORMAT,
                      "%s: a signed map needs a negative first entry, got %s", what,
                      format_double(values[0]).c_str());
    } else {
        BNB_RETURN_IF(zero_index != 0, BNB_ERR_BAD_FORMAT,
                      "%s: an unsigned map must start with +0.0, got %s", what,
                      format_double(values[0]).c_str());
    }
    std::shared_ptr<QuantMap> map(new QuantMap());
    for (int i = 0; i < kMapSize; ++i) map->values_[i] = values[i];
    for (int j = 0; j + 1 < kMapSize; ++j) {
        map->midpoints_[j] = (values[j] + values[j + 1]) * 0.5f;
    }
    map->midpoints_[kMapSize - 1] = std::numeric_limits<float>::infinity();
    map->zero_code_ = static_cast<uint8_t>(zero_index);
    map->kind_ = kind;
    map->build_lut();
    *out = std::move(map);
    return Status::ok_status();
}

// Note [select lookup] (rules/quant.hpp): each bucket stores the count of midpoints below its smallest
// float, and is usable only if at most one midpoint lies between its smallest and largest float.
void QuantMap::build_lut() {
    has_lut_ = false;
    const auto count_below = [this](float x) { return count_midpoints_below(midpoints_, x); };
    const float tiny = bits_to_float(kLutTinyBits - 1u);  // largest float below 2^-24
    const float huge = bits_to_float(kLutHugeBits);       // 2.0
    const int tiny_low = count_below(-tiny);
    if (tiny_low != count_below(tiny)) return;  // a midpoint inside (-2^-24, 2^-24)
    if (count_below(-huge) != 0 || count_below(huge) != kMapSize - 1) return;
    constexpr uint32_t kBucketFloats = 1u << (23 - kLutMantissaBits);
    for (int position = 0; position < kLutHalf; ++position) {
        const uint32_t low = kLutTinyBits + static_cast<uint32_t>(position) * kBucketFloats;
        const uint32_t high = low + kBucketFloats - 1u;
        // Positive bucket [low, high] and its mirror [-high, -low].
        const float ranges[2][2] = {{bits_to_float(low), bits_to_float(high)},
                                    {-bits_to_float(high), -bits_to_float(low)}};
        const int buckets[2] = {kLutHalf + position, kLutHalf - 1 - position};
        for (int side = 0; side < 2; ++side) {
            const int base = count_below(ranges[side][0]);
            if (count_below(ranges[side][1]) - base > 1) return;
            lut_[buckets[side]] = static_cast<uint8_t>(base);
        }
    }
    tiny_code_ = static_cast<uint8_t>(tiny_low);
    has_lut_ = true;
}

const std::shared_ptr<const QuantMap>& QuantMap::builtin(bnb_qmap_kind kind) {
    static const std::shared_ptr<const QuantMap> signed_map = make_builtin(BNB_QMAP_SIGNED);
    static const std::shared_ptr<const QuantMap> unsigned_map = make_builtin(BNB_QMAP_UNSIGNED);
    return kind == BNB_QMAP_SIGNED ? signed_map : unsigned_map;
}

}  // namespace bnb
