"""Export a PyTorch LeNet-300-100 as a safetensors state dict that Sparsity.Samples.BringYourOwnModel loads.

    python3 export_example.py [--data DIR] [--epochs 1] [--out lenet300.safetensors]
    python3 export_example.py --evaluate lenet300.safetensors --mask results/byo/jackpot-0.9.safetensors

The second form reads the weights back, multiplies in the mask the sample saved (keys `<param>_mask`) and prints
the pruned model's test accuracy in PyTorch, which should equal the sample's "jackpot (final mask)" row.

DIR holds the Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]); default: the
repository's embedded 6,000-image subset (data/fashion-mnist-subset). The model's attribute names (fc1, fc2, fc3)
are what make the state-dict keys (fc1.weight, fc1.bias, ...) match Sparsity's reference model.

With the `safetensors` package installed, the export is the usual two lines:

    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, "model.safetensors")

This script uses that when it can, and otherwise writes the same file by hand (the format is an 8-byte
little-endian header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
little-endian bytes), so it needs nothing but torch.
"""
import argparse
import gzip
import json
import os
import struct

import torch
from torch import nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN, STD = 0.2860, 0.3530  # the normalisation Sparsity's FashionMnist loader applies: (x / 255 - MEAN) / STD


class LeNet300(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x):
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def read_idx(folder, name):
    path = os.path.join(folder, name)
    opener = open if os.path.exists(path) else gzip.open
    path = path if os.path.exists(path) else path + ".gz"
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def save_safetensors(tensors, path):
    """Hand-written safetensors writer (the same bytes safetensors.torch.save_file produces, up to key order)."""
    dtypes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64", torch.int64: "I64"}
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in sorted(tensors.items()):
        t = t.detach().cpu().contiguous()
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad the header to a multiple of 8 bytes, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """Hand-written safetensors reader (what safetensors.torch.load_file returns)."""
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64, "I64": torch.int64, "BOOL": torch.bool}
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + start:8 + n + end]), dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return out


def test_accuracy(model, folder):
    images = (read_idx(folder, "t10k-images-idx3-ubyte").float() / 255 - MEAN) / STD
    labels = read_idx(folder, "t10k-labels-idx1-ubyte").long()
    with torch.no_grad():
        return 100.0 * (model(images.unsqueeze(1)).argmax(1) == labels).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(HERE, "..", "..", "data", "fashion-mnist-subset"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", default="lenet300.safetensors")
    parser.add_argument("--evaluate", help="evaluate this exported file instead of training")
    parser.add_argument("--mask", help="with --evaluate: a mask file written by the sample, applied before evaluating")
    args = parser.parse_args()

    if args.evaluate:
        model = LeNet300()
        model.load_state_dict(load_safetensors(args.evaluate))
        if args.mask:
            masks = load_safetensors(args.mask)
            with torch.no_grad():
                for name, p in model.named_parameters():
                    if name + "_mask" in masks:
                        p.mul_(masks[name + "_mask"])
            kept = sum(int(m.sum()) for m in masks.values())
            print(f"applied {args.mask}: {kept} of {sum(m.numel() for m in masks.values())} masked weights kept")
        print(f"test accuracy in PyTorch: {test_accuracy(model, args.data):.2f} %")
        return

    torch.manual_seed(0)
    images = (read_idx(args.data, "train-images-idx3-ubyte").float() / 255 - MEAN) / STD
    labels = read_idx(args.data, "train-labels-idx1-ubyte").long()
    model = LeNet300()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(args.epochs):
        order = torch.randperm(len(labels))
        for i in range(0, len(labels), 128):
            idx = order[i:i + 128]
            optimiser.zero_grad()
            loss = F.cross_entropy(model(images[idx].unsqueeze(1)), labels[idx])
            loss.backward()
            optimiser.step()
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.3f}")

    accuracy = test_accuracy(model, args.data)
    print(f"test accuracy in PyTorch: {accuracy:.2f} % (the sample's 'dense (loaded)' row should print the same)")

    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    try:
        from safetensors.torch import save_file
        save_file(state, args.out)
        print(f"wrote {args.out} with safetensors.torch.save_file: {', '.join(state)}")
    except ImportError:
        save_safetensors(state, args.out)
        print(f"wrote {args.out} by hand (no safetensors package): {', '.join(state)}")


if __name__ == "__main__":
    main()
