"""Opens a bnb8 checkpoint with nothing but the Python standard library, following the safetensors
specification alone (no bnb8 code), and checks the container rules and the bnb8 layout.

Usage: read_checkpoint.py FILE NUMEL STEP
  FILE holds one parameter of NUMEL elements with 8-bit block-wise AdamW states after STEP steps."""
import json
import math
import struct
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_size,) = struct.unpack("<Q", data[:8])
    header_bytes = data[8 : 8 + header_size]
    assert (8 + header_size) % 8 == 0, "data section not 8-byte aligned"
    assert header_bytes.rstrip(b" ").endswith(b"}"), "padding must be spaces"
    header = json.loads(header_bytes)
    metadata = header.pop("__metadata__")
    assert all(isinstance(v, str) for v in metadata.values()), "metadata values must be strings"
    section = data[8 + header_size :]
    sizes = {"F32": 4, "U8": 1}
    tensors, end = {}, 0
    for name, entry in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, stop = entry["data_offsets"]
        assert begin == end, f"{name}: tensors must be contiguous"
        assert stop - begin == math.prod(entry["shape"]) * sizes[entry["dtype"]], f"{name}: size"
        tensors[name] = (entry["dtype"], entry["shape"], section[begin:stop])
        end = stop
    assert end == len(section), "tensors must cover the data section"
    return metadata, tensors


def main():
    path, numel, step = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    metadata, tensors = read_safetensors(path)
    assert metadata["format"] == "bnb8.optimizer-state", metadata["format"]
    assert metadata["format_version"].split(".")[0] == "1"
    assert metadata["algorithm"] == "adamw"
    assert metadata["p0.step"] == str(step) and metadata["p0.state_mode"] == "8bit-blockwise"
    blocks = (numel + 255) // 256
    assert tensors["p0.state1"][:2] == ("U8", [numel]) and tensors["p0.state2"][:2] == ("U8", [numel])
    assert tensors["p0.absmax1"][:2] == ("F32", [blocks]) and tensors["p0.absmax2"][:2] == ("F32", [blocks])
    signed = struct.unpack("<256f", tensors[metadata["p0.state1.qmap"]][2])
    unsigned = struct.unpack("<256f", tensors[metadata["p0.state2.qmap"]][2])
    assert struct.pack("<f", signed[0]) == struct.pack("<I", 0xBF7E3333) and signed[127] == 0.0 and signed[255] == 1.0
    assert unsigned[0] == 0.0 and unsigned[255] == 1.0
    assert all(a < b for a, b in zip(signed, signed[1:])), "maps are strictly increasing"
    absmax = struct.unpack(f"<{blocks}f", tensors["p0.absmax1"][2])
    assert all(a >= 0.0 for a in absmax)
    print(f"read {len(tensors)} tensors and {len(metadata)} metadata entries from {path} without bnb8")


if __name__ == "__main__":
    main()
