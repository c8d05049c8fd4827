#!/usr/bin/python3
"""Checks an N:M export written by Sparsity (SemiStructuredExport.Save, the N:M sample's *-jackpot.safetensors).

    /usr/bin/python3 samples/Sparsity.Samples.NM/check_semi_structured.py results/nm/lenet300-2of4-jackpot.safetensors

For every layer it checks the property PyTorch's torch.sparse.to_sparse_semi_structured relies on: the weight is a
2-d [out, r] matrix (r = in for Linear, in*kh*kw for Conv2d) and every group of M consecutive entries along the last
dimension holds exactly N kept positions (the mask) and at most N nonzeros (the masked weight); the weight is zero
wherever the mask is. It rebuilds the original weight shapes from the metadata. With PyTorch >= 2.1 and a CUDA GPU
of compute capability >= 8.0 and a 2:4 file it also converts each layer with to_sparse_semi_structured (fp16) and
compares a product with the dense one. Needs numpy only (torch optional: Debian's python3-torch 1.13 has no
semi-structured sparsity, so the conversion step is skipped there). Exit status 0 when every check passes.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BOOL": np.bool_, "U8": np.uint8, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors, meta


def main(path):
    tensors, meta = read_safetensors(path)
    if meta.get("format") != "sparsity.semi_structured":
        print(f"{path}: not a semi-structured export (format = {meta.get('format')!r})")
        return 1
    n, m = (int(x) for x in meta["pattern"].split(":"))
    shapes = json.loads(meta["layers"])
    failures = 0
    for name, shape in shapes.items():
        w, mask = tensors[name], tensors[name + "_mask"].astype(bool)
        rows = shape[0]
        ok = w.ndim == 2 and w.shape == mask.shape and w.shape[0] == rows and w.shape[1] % m == 0
        ok = ok and int(np.prod(w.shape)) == int(np.prod(shape))
        kept = mask.reshape(rows, -1, m).sum(axis=2)
        nonzero = (w != 0).reshape(rows, -1, m).sum(axis=2)
        ok = ok and bool((kept == n).all()) and bool((nonzero <= n).all()) and bool((w[~mask] == 0).all())
        restored = w.reshape(shape)  # the original weight layout (Conv2d: [out, in, kh, kw])
        print(f"{name}: [{', '.join(map(str, w.shape))}] -> {list(restored.shape)}, {kept.size} groups, "
              f"{'every group keeps' if ok else 'FAILED: not every group keeps'} {n} of {m}")
        failures += not ok
    print(f"dense layers (not exported): {json.loads(meta.get('dense_layers', '[]'))}")
    try:
        import torch
        has_semi = hasattr(torch.sparse, "to_sparse_semi_structured") and torch.cuda.is_available() \
            and torch.cuda.get_device_capability()[0] >= 8 and (n, m) == (2, 4)
        if has_semi:
            for name in shapes:
                dense = torch.from_numpy(tensors[name].copy()).half().cuda()
                sparse = torch.sparse.to_sparse_semi_structured(dense)
                x = torch.randn(dense.shape[1], 64, dtype=torch.half, device="cuda")
                err = (sparse @ x - dense @ x).abs().max().item()
                print(f"{name}: to_sparse_semi_structured ok, max |sparse·x − dense·x| = {err:.3g}")
        else:
            print(f"torch {torch.__version__}: no semi-structured conversion here (needs torch >= 2.1, CUDA sm80+, 2:4); pattern checked in numpy")
    except ImportError:
        print("torch not installed; pattern checked in numpy")
    print("OK" if failures == 0 else f"{failures} layer(s) FAILED")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
