// extern "C" shims for checkpoints: by path (atomic save, load read with pread) and through caller buffers.
#include <cstring>

#include "bnb8.h"
#include "boundary.hpp"
#include "optimizer_handle.hpp"
#include "serialization/checkpoint.hpp"
#include "serialization/file_io.hpp"

using bnb::Status;
using bnb::api::guarded;
using bnb::api::settled;

namespace {

Status check_args(const void* optimizer, const void* pointer, const char* name) {
    BNB_RETURN_IF(optimizer == nullptr, BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    BNB_RETURN_IF(pointer == nullptr, BNB_ERR_INVALID_ARGUMENT, "%s is NULL", name);
    return Status::ok_status();
}

class BufferSink : public bnb::ByteSink {
public:
    explicit BufferSink(void* dst) : cursor_(static_cast<char*>(dst)) {}
    Status write(const void* data, size_t bytes) override {
        std::memcpy(cursor_, data, bytes);
        cursor_ += bytes;
        return Status::ok_status();
    }

private:
    char* cursor_;
};

}  // namespace

extern "C" int32_t bnb_state_format_version(void) { return bnb::kFormatVersionMajor; }

extern "C" bnb_status bnb_state_save(const bnb_optimizer* optimizer, const char* path) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_args(optimizer, path, "path"));
        BNB_FORWARD(settled(optimizer));
        bnb::CheckpointPlan plan;
        BNB_FORWARD(bnb::plan_checkpoint(optimizer->impl, &plan));
        return bnb::write_file_atomically(path,
                                          [&](bnb::ByteSink& sink) { return bnb::write_safetensors(plan.file, sink); });
    });
}

extern "C" bnb_status bnb_state_load(bnb_optimizer* optimizer, const char* path) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_args(optimizer, path, "path"));
        BNB_FORWARD(settled(optimizer));
        bnb::FileSource file;
        BNB_FORWARD(file.open(path));
        const Status status = bnb::load_checkpoint(optimizer->impl, file);
        BNB_RETURN_IF(!status.ok(), status.code(), "'%s': %s", path, status.message().c_str());
        return status;
    });
}

extern "C" bnb_status bnb_state_serialized_size(const bnb_optimizer* optimizer, size_t* out_size) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_args(optimizer, out_size, "out_size"));
        BNB_FORWARD(settled(optimizer));
        bnb::CheckpointPlan plan;
        BNB_FORWARD(bnb::plan_checkpoint(optimizer->impl, &plan));
        *out_size = plan.file.total_size;
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_state_save_to_buffer(const bnb_optimizer* optimizer, void* dst, size_t capacity,
                                               size_t* out_written) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_args(optimizer, dst, "dst"));
        BNB_FORWARD(settled(optimizer));
        bnb::CheckpointPlan plan;
        BNB_FORWARD(bnb::plan_checkpoint(optimizer->impl, &plan));
        BNB_RETURN_IF(capacity < plan.file.total_size, BNB_ERR_INVALID_ARGUMENT,
                      "capacity = %zu is below the %zu bytes of the checkpoint (see bnb_state_serialized_size)",
                      capacity, plan.file.total_size);
        BufferSink sink(dst);
        BNB_FORWARD(bnb::write_safetensors(plan.file, sink));
        if (out_written != nullptr) *out_written = plan.file.total_size;
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_state_load_from_buffer(bnb_optimizer* optimizer, const void* src, size_t size) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_args(optimizer, src, "src"));
        BNB_FORWARD(settled(optimizer));
        return bnb::load_checkpoint(optimizer->impl, static_cast<const uint8_t*>(src), size);
    });
}
