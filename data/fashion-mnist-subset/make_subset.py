#!/usr/bin/env python3
"""Draws the embedded Fashion-MNIST subset (standard library only, Python >= 3.2).

Usage: python3 make_subset.py [SOURCE_FOLDER] [OUTPUT_FOLDER]
  SOURCE_FOLDER defaults to /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist),
  OUTPUT_FOLDER to the folder of this script.

How it is drawn: for each split, the example indices 0..N-1 are shuffled with random.Random(SEED)
(SEED = 20170828 for train, 20170829 for test); walking that order, an example is taken while its
class has fewer than PER_CLASS taken (600 train, 100 test). The taken examples are written in the
order they were taken, so classes are interleaved. Output files are gzip with mtime 0, so the bytes
are reproducible.
"""
import gzip
import os
import random
import struct
import sys

SPLITS = [
    # (prefix, seed, per-class count)
    ("train", 20170828, 600),
    ("t10k", 20170829, 100),
]
CLASSES = 10


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, path
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def write_idx(path, dims, payload):
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(">" + "I" * len(dims), *dims)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(header + payload)


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    output = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    for prefix, seed, per_class in SPLITS:
        image_dims, images = read_idx(os.path.join(source, prefix + "-images-idx3-ubyte.gz"))
        label_dims, labels = read_idx(os.path.join(source, prefix + "-labels-idx1-ubyte.gz"))
        n, rows, cols = image_dims
        assert label_dims == (n,)
        order = list(range(n))
        random.Random(seed).shuffle(order)
        taken, counts = [], [0] * CLASSES
        for i in order:
            c = labels[i]
            if counts[c] < per_class:
                counts[c] += 1
                taken.append(i)
        assert counts == [per_class] * CLASSES, counts
        size = rows * cols
        write_idx(os.path.join(output, prefix + "-images-idx3-ubyte.gz"), (len(taken), rows, cols),
                  b"".join(images[i * size:(i + 1) * size] for i in taken))
        write_idx(os.path.join(output, prefix + "-labels-idx1-ubyte.gz"), (len(taken),),
                  bytes(labels[i] for i in taken))
        print(prefix, len(taken), "examples; first indices", taken[:5])


if __name__ == "__main__":
    main()
