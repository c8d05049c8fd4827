#!/usr/bin/env python3
"""Read a Sparsity compressed model file (docs/deployment.md, "File format") into a PyTorch state dict.

Needs numpy and torch only (no safetensors package). Usage:

    python3 read_compressed.py MODEL.safetensors                   # prints every tensor and mask density
    python3 read_compressed.py MODEL.safetensors --compare DENSE.safetensors
        # also reads a dense safetensors state dict and checks every tensor is bit-identical ("match")

From Python: ``state_dict, masks = read_compressed(path)``; then ``model.load_state_dict(state_dict)``.
"""
import hashlib
import json
import struct
import sys

import numpy as np
import torch

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
          "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path):
    """Returns (tensors as numpy arrays by name, metadata dict, data section bytes in file order)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n:]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']} (BF16 needs torch directly)")
        begin, end = info["data_offsets"]
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f"{path}: tensor {name} lies outside the data section")
        array = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]])
        tensors[name] = array.reshape(info["shape"])
    return tensors, metadata, data


def read_compressed(path):
    """Rebuilds the dense state dict and the masks (torch.bool) of a compressed model file."""
    tensors, metadata, data = read_safetensors(path)
    if metadata.get("sparsity.format") != "compressed-masked-model" or metadata.get("sparsity.format_version") != "1":
        raise ValueError(f"{path}: not a version-1 Sparsity compressed model file")
    if hashlib.sha256(data).hexdigest() != metadata["sparsity.data_sha256"]:
        raise ValueError(f"{path}: SHA-256 of the data section does not match (corrupt file)")
    sparse = json.loads(metadata["sparsity.sparse_tensors"])
    derived = {k + s for k in sparse for s in (".mask_bits", ".indptr", ".indices", ".values")}
    state, masks = {}, {}
    for name, array in tensors.items():
        if name not in derived:
            state[name] = torch.from_numpy(array.copy())
    for name, entry in sparse.items():
        shape = entry["shape"]
        total = int(np.prod(shape))
        values = tensors[name + ".values"]
        if entry["encoding"] == "bitmask":
            bits = np.unpackbits(tensors[name + ".mask_bits"], bitorder="little")[:total].astype(bool)
        else:  # csr over [shape[0], prod(shape[1:])]
            rows = shape[0] if shape else 1
            cols = total // rows if rows else 0
            indptr, indices = tensors[name + ".indptr"], tensors[name + ".indices"]
            row_of = np.repeat(np.arange(rows), np.diff(indptr))
            bits = np.zeros(total, dtype=bool)
            bits[row_of * cols + indices] = True
        if bits.sum() != values.size:
            raise ValueError(f"{path}: {name} keeps {bits.sum()} weights but stores {values.size} values")
        dense = np.zeros(total, dtype=values.dtype)
        dense[bits] = values  # row-major order, as written
        state[name] = torch.from_numpy(dense.reshape(shape))
        masks[name] = torch.from_numpy(bits.reshape(shape))
    return state, masks


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    state, masks = read_compressed(argv[1])
    for name, t in state.items():
        extra = f"  kept {masks[name].float().mean().item():.4f}" if name in masks else ""
        print(f"{name:40s} {str(list(t.shape)):20s} {t.dtype}{extra}")
    if len(argv) >= 4 and argv[2] == "--compare":
        dense, _, _ = read_safetensors(argv[3])
        bad = [k for k in dense if k not in state or state[k].numpy().tobytes() != dense[k].tobytes()]
        bad += [k for k in state if k not in dense]
        if bad:
            print("differ: " + ", ".join(bad))
            return 1
        print(f"match: {len(dense)} tensors bit-identical")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
