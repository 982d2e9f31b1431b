// rng.hpp -- train_mlp's own random numbers, so a seed gives the same run on every machine and libc:
// xoshiro256** seeded by splitmix64, normal deviates by the Box-Muller transform.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace trainer {

class Rng {
public:
    // Independent streams of one seed (the teacher, the student, the minibatches, the held-out set), so
    // that e.g. changing the number of steps does not change the held-out set.
    Rng(uint64_t seed, uint64_t stream) {
        uint64_t x = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));
        for (uint64_t& word : s_) word = splitmix64(&x);
    }

    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform in (0, 1]: never 0, so the logarithm in normal() is finite.
    double uniform() { return (static_cast<double>(next() >> 11) + 1.0) * 0x1.0p-53; }

    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        const double radius = std::sqrt(-2.0 * std::log(uniform()));
        const double angle = 6.283185307179586 * uniform();
        spare_ = radius * std::sin(angle);  // Box-Muller makes normals in pairs; keep the second
        has_spare_ = true;
        return radius * std::cos(angle);
    }

    void fill_normal(float* x, size_t count, double stddev) {
        for (size_t i = 0; i < count; ++i) x[i] = static_cast<float>(normal() * stddev);
    }

private:
    static uint64_t splitmix64(uint64_t* x) {
        uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        return z ^ (z >> 31);
    }
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    uint64_t s_[4] = {};
    bool has_spare_ = false;
    double spare_ = 0.0;
};

}  // namespace trainer
