// A move-only, 64-byte aligned array whose allocation reports failure as a Status instead of throwing,
// so a step or load that cannot get memory returns BNB_ERR_OUT_OF_MEMORY and changes nothing.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "status.hpp"

namespace bnb {

template <class T>
class AlignedBuffer {
public:
    static constexpr size_t kAlignment = 64;

    AlignedBuffer() = default;
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
    AlignedBuffer(AlignedBuffer&& other) noexcept { swap(other); }
    AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
        AlignedBuffer(std::move(other)).swap(*this);
        return *this;
    }
    ~AlignedBuffer() { std::free(data_); }

    // Replaces the contents with `count` elements, each set to `fill`. `what` names the buffer in the
    // out-of-memory message. On failure the buffer is unchanged.
    Status allocate(int64_t count, T fill, const char* what) {
        const uint64_t max_count = std::numeric_limits<size_t>::max() / sizeof(T) - kAlignment;
        BNB_RETURN_IF(count < 0 || static_cast<uint64_t>(count) > max_count, BNB_ERR_OUT_OF_MEMORY,
                      "%s: %lld elements do not fit in memory", what, static_cast<long long>(count));
        T* fresh = nullptr;
        if (count > 0) {
            size_t bytes = static_cast<size_t>(count) * sizeof(T);
            bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;  // aligned_alloc's contract
            fresh = static_cast<T*>(std::aligned_alloc(kAlignment, bytes));
            BNB_RETURN_IF(fresh == nullptr, BNB_ERR_OUT_OF_MEMORY, "%s: could not allocate %zu bytes",
                          what, bytes);
            for (int64_t i = 0; i < count; ++i) fresh[i] = fill;
        }
        std::free(data_);
        data_ = fresh;
        size_ = count;
        return Status::ok_status();
    }

    void reset() { AlignedBuffer().swap(*this); }
    void swap(AlignedBuffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
    }

    T* data() { return data_; }
    const T* data() const { return data_; }
    int64_t size() const { return size_; }
    int64_t bytes() const { return size_ * static_cast<int64_t>(sizeof(T)); }
    T& operator[](int64_t i) { return data_[i]; }
    const T& operator[](int64_t i) const { return data_[i]; }

private:
    T* data_ = nullptr;
    int64_t size_ = 0;
};

}  // namespace bnb
