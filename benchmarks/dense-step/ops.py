"""Per-operator account of the ResNet-20 training step of dense_step.py, in PyTorch (Debian's torch 1.13).

Every operator of the step at its own shapes (batch 128 of 1x28x28): the convolutions (each distinct shape), batch
norm, ReLU, the residual addition, the zero-pad shortcut, pooling + classifier + loss, and the SGD update. Each
is timed alone: forward (median of STEPS after 5 warm-ups), and backward from a fixed random upstream gradient
(forward untimed, then the backward timed). Weights and inputs require gradients as in the step (the network
input does not). The per-step total multiplies each row by its count in the network. The twin is ops.cs; run both
through measure-ops.sh.

/usr/bin/python3 benchmarks/dense-step/ops.py OUT.json
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

BATCH = 128
# (name, kind, channels in, channels out, input size, stride, count in ResNet-20, input requires grad)
OPS = [
    ("conv 1>16 28x28", "conv", 1, 16, 28, 1, 1, False),
    ("conv 16>16 28x28", "conv", 16, 16, 28, 1, 6, True),
    ("conv 16>32 28x28 s2", "conv", 16, 32, 28, 2, 1, True),
    ("conv 32>32 14x14", "conv", 32, 32, 14, 1, 5, True),
    ("conv 32>64 14x14 s2", "conv", 32, 64, 14, 2, 1, True),
    ("conv 64>64 7x7", "conv", 64, 64, 7, 1, 5, True),
    ("batchnorm 16 28x28", "bn", 16, 16, 28, 1, 7, True),
    ("batchnorm 32 14x14", "bn", 32, 32, 14, 1, 6, True),
    ("batchnorm 64 7x7", "bn", 64, 64, 7, 1, 6, True),
    ("relu 16 28x28", "relu", 16, 16, 28, 1, 7, True),
    ("relu 32 14x14", "relu", 32, 32, 14, 1, 6, True),
    ("relu 64 7x7", "relu", 64, 64, 7, 1, 6, True),
    ("add 16 28x28", "add", 16, 16, 28, 1, 3, True),
    ("add 32 14x14", "add", 32, 32, 14, 1, 3, True),
    ("add 64 7x7", "add", 64, 64, 7, 1, 3, True),
    ("zero-pad shortcut 16>32", "pad", 16, 32, 28, 2, 1, True),
    ("zero-pad shortcut 32>64", "pad", 32, 64, 14, 2, 1, True),
    ("pool + linear + loss", "head", 64, 10, 7, 1, 1, True),
    ("SGD step (all parameters)", "sgd", 0, 0, 0, 1, 1, False),
]


def make(kind, cin, cout, size, stride, input_grad, g):
    """Returns (leaves, forward function, output example) for one operator."""
    x = torch.randn(BATCH, cin, size, size, generator=g).requires_grad_(input_grad)
    if kind == "conv":
        w = (torch.randn(cout, cin, 3, 3, generator=g) * 0.1).requires_grad_()
        return [x, w], lambda: F.conv2d(x, w, None, stride, 1)
    if kind == "bn":
        gamma = torch.ones(cin, requires_grad=True)
        beta = torch.zeros(cin, requires_grad=True)
        mean, var = torch.zeros(cin), torch.ones(cin)
        return [x, gamma, beta], lambda: F.batch_norm(x, mean, var, gamma, beta, True, 0.1, 1e-5)
    if kind == "relu":
        return [x], lambda: F.relu(x)
    if kind == "add":
        y = torch.randn(BATCH, cin, size, size, generator=g).requires_grad_()
        return [x, y], lambda: x + y
    if kind == "pad":
        lo = (cout - cin) // 2
        return [x], lambda: F.pad(x[:, :, ::stride, ::stride], (0, 0, 0, 0, lo, cout - cin - lo))
    if kind == "head":
        w = (torch.randn(cout, cin, generator=g) * 0.1).requires_grad_()
        b = torch.zeros(cout, requires_grad=True)
        y = torch.randint(0, cout, (BATCH,), generator=g)
        return [x, w, b], lambda: F.cross_entropy(F.linear(F.adaptive_avg_pool2d(x, 1).flatten(1), w, b), y)
    raise ValueError(kind)


def resnet20_parameter_shapes():
    shapes = [(16, 1, 3, 3), (16,), (16,)]
    inp = 16
    for planes in (16, 32, 64):
        for _ in range(3):
            shapes += [(planes, inp, 3, 3), (planes,), (planes,), (planes, planes, 3, 3), (planes,), (planes,)]
            inp = planes
    return shapes + [(10, 64), (10,)]


def time_sgd(steps, warmup):
    params = [torch.nn.Parameter(torch.randn(s)) for s in resnet20_parameter_shapes()]
    for p in params:
        p.grad = torch.randn(p.shape)
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4)
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.step()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), 0.0


def time_op(kind, cin, cout, size, stride, input_grad, steps, warmup):
    if kind == "sgd":
        return time_sgd(steps, warmup)
    g = torch.Generator().manual_seed(7)
    leaves, forward = make(kind, cin, cout, size, stride, input_grad, g)
    with torch.no_grad():
        upstream = torch.randn(forward().shape, generator=g)
    fw, bw = [], []
    for i in range(warmup + steps):
        for leaf in leaves:
            leaf.grad = None
        t0 = time.perf_counter()
        out = forward()
        t1 = time.perf_counter()
        out.backward(upstream)
        t2 = time.perf_counter()
        if i >= warmup:
            fw.append((t1 - t0) * 1e3)
            bw.append((t2 - t1) * 1e3)
    return statistics.median(fw), statistics.median(bw)


def main():
    steps = int(os.environ.get("STEPS", "30"))
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, kind, cin, cout, size, stride, count, input_grad in OPS:
            f, b = time_op(kind, cin, cout, size, stride, input_grad, steps, 5)
            rows.append({"op": name, "threads": threads, "count": count, "forward_ms": round(f, 4), "backward_ms": round(b, 4)})
            print(f"pytorch threads {threads} {name}: forward {f:.3f} ms, backward {b:.3f} ms", flush=True)
    out = sys.argv[1] if len(sys.argv) > 1 else "ops-pytorch.json"
    with open(out + ".tmp", "w") as f:
        json.dump(rows, f, indent=2)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
