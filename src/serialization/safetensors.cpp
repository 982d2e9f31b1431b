#include "safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace bnb {
namespace {

using json = nlohmann::json;

void put_u64_le(uint64_t value, char* out) {
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFFu);
}

uint64_t get_u64_le(const uint8_t* in) {
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(in[i]) << (8 * i);
    return value;
}

bool read_u64(const json& value, uint64_t* out) {
    if (!value.is_number_unsigned()) return false;  // rejects negatives and floats
    *out = value.get<uint64_t>();
    return true;
}

Status parse_entry(const std::string& name, const json& entry, uint64_t data_size, TensorIn* out,
                   std::pair<uint64_t, uint64_t>* range) {
    BNB_RETURN_IF(!entry.is_object(), BNB_ERR_BAD_FORMAT, "tensor '%s' is not a JSON object", name.c_str());
    const auto dtype = entry.find("dtype");
    const auto shape = entry.find("shape");
    const auto offsets = entry.find("data_offsets");
    BNB_RETURN_IF(dtype == entry.end() || !dtype->is_string(), BNB_ERR_BAD_FORMAT, "tensor '%s' has no dtype string",
                  name.c_str());
    BNB_RETURN_IF(shape == entry.end() || !shape->is_array(), BNB_ERR_BAD_FORMAT, "tensor '%s' has no shape array",
                  name.c_str());
    BNB_RETURN_IF(offsets == entry.end() || !offsets->is_array() || offsets->size() != 2, BNB_ERR_BAD_FORMAT,
                  "tensor '%s' has no [begin, end] data_offsets", name.c_str());
    out->dtype = dtype->get<std::string>();
    const size_t element = safetensors_dtype_size(out->dtype);
    BNB_RETURN_IF(element == 0, BNB_ERR_BAD_FORMAT, "tensor '%s' has unknown dtype '%s'", name.c_str(),
                  out->dtype.c_str());
    uint64_t count = 1;
    out->shape.clear();
    for (const json& dim : *shape) {
        uint64_t d = 0;
        BNB_RETURN_IF(!read_u64(dim, &d) || d > static_cast<uint64_t>(INT64_MAX), BNB_ERR_BAD_FORMAT,
                      "tensor '%s' has an invalid dimension", name.c_str());
        BNB_RETURN_IF(__builtin_mul_overflow(count, d, &count), BNB_ERR_BAD_FORMAT,
                      "tensor '%s': shape overflows", name.c_str());
        out->shape.push_back(static_cast<int64_t>(d));
    }
    uint64_t bytes = 0, begin = 0, end = 0;
    BNB_RETURN_IF(__builtin_mul_overflow(count, static_cast<uint64_t>(element), &bytes), BNB_ERR_BAD_FORMAT,
                  "tensor '%s': size overflows", name.c_str());
    BNB_RETURN_IF(!read_u64((*offsets)[0], &begin) || !read_u64((*offsets)[1], &end) || begin > end,
                  BNB_ERR_BAD_FORMAT, "tensor '%s' has invalid data_offsets", name.c_str());
    BNB_RETURN_IF(end - begin != bytes, BNB_ERR_BAD_FORMAT,
                  "tensor '%s': data_offsets span %llu bytes, its shape needs %llu", name.c_str(),
                  static_cast<unsigned long long>(end - begin), static_cast<unsigned long long>(bytes));
    BNB_RETURN_IF(end > data_size, BNB_ERR_BAD_FORMAT,
                  "tensor '%s' ends at byte %llu of a %llu-byte data section (truncated file?)", name.c_str(),
                  static_cast<unsigned long long>(end), static_cast<unsigned long long>(data_size));
    out->bytes = static_cast<size_t>(bytes);
    *range = {begin, end};
    return Status::ok_status();
}

}  // namespace

size_t safetensors_dtype_size(const std::string& dtype) {
    static const std::pair<const char*, size_t> kSizes[] = {
        {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
        {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}};
    for (const auto& entry : kSizes) {
        if (dtype == entry.first) return entry.second;
    }
    return 0;
}

Status plan_safetensors(const std::map<std::string, std::string>& metadata, std::vector<TensorOut> tensors,
                        SafetensorsPlan* out) {
    json header = json::object();
    header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const TensorOut& t : tensors) {
        header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes}}};
        offset += t.bytes;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');  // 8-byte alignment of the data section
    BNB_RETURN_IF(text.size() > kMaxSafetensorsHeader, BNB_ERR_UNSUPPORTED,
                  "the checkpoint header would be %zu bytes, above the %zu that safetensors readers accept",
                  text.size(), kMaxSafetensorsHeader);
    out->prefix.assign(8, '\0');
    put_u64_le(text.size(), &out->prefix[0]);
    out->prefix += text;
    out->total_size = out->prefix.size() + static_cast<size_t>(offset);
    out->tensors = std::move(tensors);
    return Status::ok_status();
}

Status write_safetensors(const SafetensorsPlan& plan, ByteSink& sink) {
    BNB_FORWARD(sink.write(plan.prefix.data(), plan.prefix.size()));
    for (const TensorOut& t : plan.tensors) {
        if (t.bytes > 0) BNB_FORWARD(sink.write(t.data, t.bytes));
    }
    return Status::ok_status();
}

Status MemorySource::read(uint64_t offset, void* dst, size_t bytes) const {
    BNB_RETURN_IF(offset > size_ || bytes > size_ - offset, BNB_ERR_BAD_FORMAT,
                  "bytes [%llu, %llu) lie past the end of the %zu-byte buffer (truncated?)",
                  static_cast<unsigned long long>(offset), static_cast<unsigned long long>(offset + bytes), size_);
    if (bytes > 0) std::memcpy(dst, data_ + offset, bytes);
    return Status::ok_status();
}

Status parse_safetensors(const ByteSource& source, size_t max_header, SafetensorsView* out) {
    const uint64_t size = source.size();
    BNB_RETURN_IF(size < 8, BNB_ERR_BAD_FORMAT, "%llu bytes are too few for a safetensors file (truncated?)",
                  static_cast<unsigned long long>(size));
    uint8_t length[8];
    BNB_FORWARD(source.read(0, length, sizeof length));
    const uint64_t header_size = get_u64_le(length);
    // Bounded before anything is allocated: a hostile length costs nothing.
    BNB_RETURN_IF(header_size > max_header, BNB_ERR_BAD_FORMAT, "header length %llu exceeds the %zu-byte limit",
                  static_cast<unsigned long long>(header_size), max_header);
    BNB_RETURN_IF(header_size > size - 8, BNB_ERR_BAD_FORMAT,
                  "header length %llu runs past the end of the %llu-byte file (truncated?)",
                  static_cast<unsigned long long>(header_size), static_cast<unsigned long long>(size));
    std::string header_text(static_cast<size_t>(header_size), '\0');
    BNB_FORWARD(source.read(8, &header_text[0], header_text.size()));
    // The JSON object, then only the spaces that pad the data section to 8 bytes: any other byte there
    // (a NUL would end the JSON parse early) means the header is damaged.
    const char* text = header_text.data();
    size_t json_size = header_text.size();
    while (json_size > 0 && text[json_size - 1] == ' ') --json_size;
    BNB_RETURN_IF(json_size == 0 || text[json_size - 1] != '}', BNB_ERR_BAD_FORMAT,
                  "the header does not end with a JSON object followed by space padding");
    BNB_RETURN_IF(std::memchr(text, '\0', json_size) != nullptr, BNB_ERR_BAD_FORMAT, "the header contains a NUL byte");
    // Strict JSON: a key repeated in one object is an error (nlohmann keeps the last one silently, other
    // readers the first, so the two could disagree on what the file says).
    std::vector<std::set<std::string>> open_objects;
    std::string duplicate;
    const json::parser_callback_t strict = [&](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        if (event == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
        if (event == json::parse_event_t::key && !open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
            duplicate = parsed.get<std::string>();
        }
        return true;
    };
    const json header = json::parse(text, text + json_size, strict, /*allow_exceptions=*/false);
    BNB_RETURN_IF(header.is_discarded() || !header.is_object(), BNB_ERR_BAD_FORMAT,
                  "the header is not a valid JSON object");
    BNB_RETURN_IF(!duplicate.empty(), BNB_ERR_BAD_FORMAT, "the header repeats the key '%s'", duplicate.c_str());
    const uint64_t section = 8 + header_size;
    const uint64_t section_size = size - section;

    SafetensorsView view;
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") {
            BNB_RETURN_IF(!it->is_object(), BNB_ERR_BAD_FORMAT, "__metadata__ is not a JSON object");
            for (auto m = it->begin(); m != it->end(); ++m) {
                BNB_RETURN_IF(!m->is_string(), BNB_ERR_BAD_FORMAT, "metadata '%s' is not a string", m.key().c_str());
                view.metadata[m.key()] = m->get<std::string>();
            }
            continue;
        }
        TensorIn tensor;
        std::pair<uint64_t, uint64_t> range;
        BNB_FORWARD(parse_entry(it.key(), *it, section_size, &tensor, &range));
        tensor.offset = section + range.first;
        ranges.push_back(range);
        view.tensors[it.key()] = std::move(tensor);
    }
    // The data section is exactly the tensors, back to back (the rule safetensors readers enforce).
    std::sort(ranges.begin(), ranges.end());
    uint64_t expected = 0;
    for (const auto& range : ranges) {
        BNB_RETURN_IF(range.first != expected, BNB_ERR_BAD_FORMAT,
                      "tensor data is not contiguous: a tensor starts at byte %llu, expected %llu",
                      static_cast<unsigned long long>(range.first), static_cast<unsigned long long>(expected));
        expected = range.second;
    }
    BNB_RETURN_IF(expected != section_size, BNB_ERR_BAD_FORMAT,
                  "the tensors cover %llu bytes of a %llu-byte data section", static_cast<unsigned long long>(expected),
                  static_cast<unsigned long long>(section_size));
    *out = std::move(view);
    return Status::ok_status();
}

}  // namespace bnb
