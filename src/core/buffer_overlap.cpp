#include "buffer_overlap.hpp"

#include "names.hpp"

namespace bnb {

ByteRange byte_range(const bnb_tensor& t) {
    ByteRange r;
    if (t.numel <= 0 || t.data == nullptr) return r;
    r.begin = reinterpret_cast<uintptr_t>(t.data);
    const uintptr_t bytes = static_cast<uintptr_t>(t.numel) * static_cast<uintptr_t>(dtype_size(t.dtype));
    r.end = bytes > UINTPTR_MAX - r.begin ? UINTPTR_MAX : r.begin + bytes;  // a range past the top: clamp
    return r;
}

bool overlaps(const ByteRange& a, const ByteRange& b) {
    if (a.begin == a.end || b.begin == b.end) return false;
    return a.begin < b.end && b.begin < a.end;
}

}  // namespace bnb
