// A move-only array of optimizer state in host memory (64-byte aligned, on huge pages when large:
// host_memory.hpp), or in device or managed memory of the device backend (backend.hpp: CUDA). Allocation
// failures come back as a Status (BNB_ERR_OUT_OF_MEMORY, or BNB_ERR_CUDA), never as an exception, so a
// step or load that cannot get memory changes nothing. data() is a host pointer only for host buffers;
// read(), write() and assign() work for every kind.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "backend.hpp"
#include "host_memory.hpp"
#include "memory_placement.hpp"
#include "status.hpp"

namespace bnb {

template <class T>
class StateBuffer {
    static_assert(std::is_trivially_copyable<T>::value, "state buffers hold plain values");

public:
    static constexpr size_t kAlignment = 64;

    StateBuffer() = default;
    StateBuffer(const StateBuffer&) = delete;
    StateBuffer& operator=(const StateBuffer&) = delete;
    StateBuffer(StateBuffer&& other) noexcept { swap(other); }
    StateBuffer& operator=(StateBuffer&& other) noexcept {
        StateBuffer(std::move(other)).swap(*this);
        return *this;
    }
    ~StateBuffer() { free_storage(); }

    // Replaces the contents with `count` elements set to `fill`, in `where`. Device and managed memory
    // are filled bytewise, so `fill` must be one repeated byte (uint8 codes, or +0.0f). `what` names the
    // buffer in messages. On failure the buffer is unchanged.
    Status allocate(int64_t count, T fill, const char* what, Placement where = Placement::host()) {
        const uint64_t max_count = std::numeric_limits<size_t>::max() / sizeof(T) - kAlignment;
        BNB_RETURN_IF(count < 0 || static_cast<uint64_t>(count) > max_count, BNB_ERR_OUT_OF_MEMORY,
                      "%s: %lld elements do not fit in memory", what, static_cast<long long>(count));
        StateBuffer fresh;
        fresh.placement_ = where;
        if (count > 0) {
            const size_t bytes = static_cast<size_t>(count) * sizeof(T);
            if (where.kind == MemoryKind::kHost) {
                fresh.data_ = static_cast<T*>(host_allocate(bytes));
                BNB_RETURN_IF(fresh.data_ == nullptr, BNB_ERR_OUT_OF_MEMORY, "%s: could not allocate %zu bytes",
                              what, bytes);
                fresh.size_ = count;
                for (int64_t i = 0; i < count; ++i) fresh.data_[i] = fill;
            } else {
                uint8_t byte = 0;
                BNB_RETURN_IF(!repeated_byte(fill, &byte), BNB_ERR_INTERNAL,
                              "%s: device buffers can only be filled with a repeated byte", what);
                void* raw = nullptr;
                BNB_FORWARD(device_backend().allocate(bytes, where, what, &raw));
                fresh.data_ = static_cast<T*>(raw);
                fresh.size_ = count;
                BNB_FORWARD(device_backend().fill(raw, byte, bytes, where));
            }
        }
        swap(fresh);
        return Status::ok_status();
    }

    // A copy of this buffer in `where` (also a plain copy when `where` is the same placement).
    Status clone(Placement where, const char* what, StateBuffer* out) const {
        StateBuffer fresh;
        BNB_FORWARD(fresh.allocate(size_, T(), what, where));
        BNB_FORWARD(fresh.assign(*this));
        *out = std::move(fresh);
        return Status::ok_status();
    }

    // Copies the contents of `src`, which has the same size, whatever either placement is.
    Status assign(const StateBuffer& src) {
        BNB_RETURN_IF(src.size_ != size_, BNB_ERR_INTERNAL, "state buffer copy of %lld into %lld elements",
                      static_cast<long long>(src.size_), static_cast<long long>(size_));
        if (size_ == 0) return Status::ok_status();
        if (on_host() && src.on_host()) {
            std::memcpy(data_, src.data_, static_cast<size_t>(bytes()));
            return Status::ok_status();
        }
        return device_backend().copy(data_, src.data_, static_cast<size_t>(bytes()),
                                     on_host() ? src.placement_.device : placement_.device);
    }

    // Copies elements [first, first + count) into host memory at dst.
    Status read(int64_t first, int64_t count, T* dst) const {
        if (count <= 0) return Status::ok_status();
        if (on_host()) {
            std::memcpy(dst, data_ + first, static_cast<size_t>(count) * sizeof(T));
            return Status::ok_status();
        }
        return device_backend().copy(dst, data_ + first, static_cast<size_t>(count) * sizeof(T), placement_.device);
    }

    // Copies `count` elements from host memory at src into elements [first, first + count).
    Status write(int64_t first, int64_t count, const T* src) {
        if (count <= 0) return Status::ok_status();
        if (on_host()) {
            std::memcpy(data_ + first, src, static_cast<size_t>(count) * sizeof(T));
            return Status::ok_status();
        }
        return device_backend().copy(data_ + first, src, static_cast<size_t>(count) * sizeof(T), placement_.device);
    }

    void reset() { StateBuffer().swap(*this); }
    void swap(StateBuffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        std::swap(placement_, other.placement_);
    }

    // Host buffers: a host pointer. Device and managed buffers: a CUDA pointer.
    T* data() { return data_; }
    const T* data() const { return data_; }
    int64_t size() const { return size_; }
    int64_t bytes() const { return size_ * static_cast<int64_t>(sizeof(T)); }
    const Placement& placement() const { return placement_; }
    bool on_host() const { return placement_.kind == MemoryKind::kHost; }
    // Element access, host buffers only.
    T& operator[](int64_t i) { return data_[i]; }
    const T& operator[](int64_t i) const { return data_[i]; }

private:
    static bool repeated_byte(const T& value, uint8_t* out) {
        unsigned char bytes[sizeof(T)];
        std::memcpy(bytes, &value, sizeof(T));
        for (size_t i = 1; i < sizeof(T); ++i) {
            if (bytes[i] != bytes[0]) return false;
        }
        *out = bytes[0];
        return true;
    }

    void free_storage() noexcept {
        if (data_ == nullptr) return;
        if (on_host()) {
            host_release(data_);
        } else {
            device_backend().release(data_, placement_);
        }
    }

    T* data_ = nullptr;
    int64_t size_ = 0;
    Placement placement_;
};

}  // namespace bnb
