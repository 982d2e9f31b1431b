#include "checkpoint_edit.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#define XXH_INLINE_ALL
#include <xxhash.h>

using json = nlohmann::json;

struct ckpt_tensor {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    std::vector<unsigned char> bytes;
};

struct ckpt {
    std::map<std::string, std::string> metadata;
    std::vector<ckpt_tensor> tensors;  // in data order
};

namespace {

uint64_t get_u64(const unsigned char* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
}

void put_u64(uint64_t v, unsigned char* p) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

std::string hex(uint64_t v) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
    return text;
}

unsigned char* assemble(const std::string& header_json, const std::vector<const ckpt_tensor*>& tensors, size_t* size) {
    std::string text = header_json;
    text.append((8 - text.size() % 8) % 8, ' ');
    size_t total = 8 + text.size();
    for (const ckpt_tensor* t : tensors) total += t->bytes.size();
    unsigned char* out = static_cast<unsigned char*>(std::malloc(total ? total : 1));
    put_u64(text.size(), out);
    std::memcpy(out + 8, text.data(), text.size());
    size_t at = 8 + text.size();
    for (const ckpt_tensor* t : tensors) {
        if (!t->bytes.empty()) std::memcpy(out + at, t->bytes.data(), t->bytes.size());
        at += t->bytes.size();
    }
    *size = total;
    return out;
}

}  // namespace

extern "C" ckpt* ckpt_parse(const unsigned char* data, size_t size) {
    if (size < 8) return nullptr;
    const uint64_t n = get_u64(data);
    if (n > size - 8) return nullptr;
    const json header = json::parse(data + 8, data + 8 + n, nullptr, false);
    if (header.is_discarded() || !header.is_object()) return nullptr;
    ckpt* c = new ckpt;
    std::multimap<uint64_t, ckpt_tensor> ordered;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") {
            if (!it->is_object()) continue;
            for (auto m = it->begin(); m != it->end(); ++m) {
                if (m->is_string()) c->metadata[m.key()] = m->get<std::string>();
            }
            continue;
        }
        const json& e = *it;
        if (!e.is_object() || !e.contains("dtype") || !e["dtype"].is_string() || !e.contains("shape") ||
            !e["shape"].is_array() || !e.contains("data_offsets") || !e["data_offsets"].is_array() ||
            e["data_offsets"].size() != 2 || !e["data_offsets"][0].is_number_unsigned() ||
            !e["data_offsets"][1].is_number_unsigned()) {
            delete c;
            return nullptr;
        }
        const uint64_t begin = e["data_offsets"][0].get<uint64_t>(), end = e["data_offsets"][1].get<uint64_t>();
        if (begin > end || end > size - 8 - n) {
            delete c;
            return nullptr;
        }
        ckpt_tensor t;
        t.name = it.key();
        t.dtype = e["dtype"].get<std::string>();
        for (const json& d : e["shape"]) t.shape.push_back(d.is_number_integer() ? d.get<int64_t>() : 0);
        t.bytes.assign(data + 8 + n + begin, data + 8 + n + end);
        ordered.emplace(begin, std::move(t));
    }
    for (auto& entry : ordered) c->tensors.push_back(std::move(entry.second));
    return c;
}

extern "C" void ckpt_free(ckpt* c) { delete c; }

extern "C" const char* ckpt_meta(const ckpt* c, const char* key) {
    const auto it = c->metadata.find(key);
    return it == c->metadata.end() ? nullptr : it->second.c_str();
}

extern "C" void ckpt_set_meta(ckpt* c, const char* key, const char* value) { c->metadata[key] = value; }

extern "C" size_t ckpt_meta_count(const ckpt* c) { return c->metadata.size(); }

extern "C" const char* ckpt_meta_key(const ckpt* c, size_t i) {
    auto it = c->metadata.begin();
    std::advance(it, static_cast<long>(i));
    return it->first.c_str();
}

extern "C" size_t ckpt_tensor_count(const ckpt* c) { return c->tensors.size(); }

extern "C" const char* ckpt_tensor_name(const ckpt* c, size_t i) { return c->tensors[i].name.c_str(); }

extern "C" unsigned char* ckpt_tensor_data(ckpt* c, const char* name, size_t* bytes) {
    for (ckpt_tensor& t : c->tensors) {
        if (t.name == name) {
            *bytes = t.bytes.size();
            return t.bytes.data();
        }
    }
    *bytes = 0;
    return nullptr;
}

extern "C" void ckpt_remove_meta(ckpt* c, const char* key) { c->metadata.erase(key); }

extern "C" const char* ckpt_tensor_dtype(const ckpt* c, size_t i) { return c->tensors[i].dtype.c_str(); }

extern "C" void ckpt_tensor_set_dtype(ckpt* c, size_t i, const char* dtype) { c->tensors[i].dtype = dtype; }

extern "C" size_t ckpt_tensor_rank(const ckpt* c, size_t i) { return c->tensors[i].shape.size(); }

extern "C" long long ckpt_tensor_dim(const ckpt* c, size_t i, size_t d) { return c->tensors[i].shape[d]; }

extern "C" void ckpt_tensor_set_shape(ckpt* c, size_t i, const long long* dims, size_t rank) {
    c->tensors[i].shape.assign(dims, dims + rank);
}

extern "C" unsigned char* ckpt_tensor_bytes(ckpt* c, size_t i, size_t* bytes) {
    *bytes = c->tensors[i].bytes.size();
    return c->tensors[i].bytes.data();
}

extern "C" void ckpt_tensor_resize(ckpt* c, size_t i, size_t bytes) { c->tensors[i].bytes.resize(bytes, 0); }

extern "C" void ckpt_tensor_rename(ckpt* c, size_t i, const char* name) { c->tensors[i].name = name; }

extern "C" void ckpt_tensor_remove(ckpt* c, size_t i) {
    c->tensors.erase(c->tensors.begin() + static_cast<std::ptrdiff_t>(i));
}

extern "C" unsigned char* ckpt_write(const ckpt* c, size_t* size) {
    std::map<std::string, std::string> metadata = c->metadata;
    std::map<std::string, const ckpt_tensor*> by_name;
    for (const ckpt_tensor& t : c->tensors) {
        by_name[t.name] = &t;
        metadata["checksum." + t.name] = hex(XXH3_64bits(t.bytes.data(), t.bytes.size()));
    }
    // FORMAT.md: len(key) ":" key len(value) ":" value ";" per entry but header_checksum, then
    // "tensor:" name ":" dtype ("," dim)* ";" per tensor, both in name order.
    std::string text;
    for (const auto& m : metadata) {
        if (m.first == "header_checksum") continue;
        text += std::to_string(m.first.size()) + ":" + m.first + std::to_string(m.second.size()) + ":" + m.second + ";";
    }
    for (const auto& t : by_name) {
        text += "tensor:" + t.first + ":" + t.second->dtype;
        for (int64_t d : t.second->shape) text += "," + std::to_string(d);
        text += ";";
    }
    metadata["header_checksum"] = hex(XXH3_64bits(text.data(), text.size()));
    json header = json::object();
    header["__metadata__"] = metadata;
    uint64_t offset = 0;
    std::vector<const ckpt_tensor*> order;
    for (const ckpt_tensor& t : c->tensors) {
        header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size();
        order.push_back(&t);
    }
    // Text that is not UTF-8 is written replaced (U+FFFD), never thrown across the C interface.
    return assemble(header.dump(-1, ' ', false, json::error_handler_t::replace), order, size);
}

extern "C" unsigned char* ckpt_header_replace(const unsigned char* file, size_t size, const char* find,
                                              const char* replace, size_t* out_size) {
    if (size < 8) return nullptr;
    const uint64_t n = get_u64(file);
    if (n > size - 8) return nullptr;
    std::string text(reinterpret_cast<const char*>(file + 8), static_cast<size_t>(n));
    while (!text.empty() && text.back() == ' ') text.pop_back();
    const size_t at = text.find(find);
    if (at == std::string::npos) return nullptr;
    text.replace(at, std::strlen(find), replace);
    ckpt_tensor rest;
    rest.bytes.assign(file + 8 + n, file + size);
    return assemble(text, {&rest}, out_size);
}
