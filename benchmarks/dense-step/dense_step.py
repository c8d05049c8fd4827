"""The dense training step of dense-step.cs in PyTorch (Debian's /usr/bin/python3, torch 1.13).

LeNet-300-100 and the CIFAR ResNet-20 (option A shortcut: strided identity zero-padded in channels, as
src/Sparsity.Models/CifarResNet.cs), batch 128 of 1x28x28, 10 classes, cross-entropy, SGD lr 0.1, momentum
0.9, weight decay 5e-4; forward (with the loss), backward and optimiser step timed separately; 5 warm-up
steps, median of STEPS (default 30), at 1 and 2 threads; then the evaluation forward pass (eval mode) under
no_grad and under inference_mode, alternating.

/usr/bin/python3 benchmarks/dense-step/dense_step.py OUT.json
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet300(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x):
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Block(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = (planes - inp) // 2, planes - inp - (planes - inp) // 2
        self.zero_pad = stride != 1 or inp != planes

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.zero_pad:
            sub = x[:, :, ::self.stride, ::self.stride]
            out = out + F.pad(sub, (0, 0, 0, 0, self.pad[0], self.pad[1]))
        else:
            out = out + x
        return F.relu(out)


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stages = []
        inp = 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = [Block(inp, planes, stride)] + [Block(planes, planes, 1) for _ in range(2)]
            stages.append(nn.Sequential(*blocks))
            inp = planes
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def main():
    steps = int(os.environ.get("STEPS", "30"))
    warmup, batch = 5, 128
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, make in (("lenet300", LeNet300), ("resnet20", ResNet20)):
            torch.manual_seed(0)
            model = make().train()
            g = torch.Generator().manual_seed(1)
            x = torch.randn(batch, 1, 28, 28, generator=g)
            y = torch.randint(0, 10, (batch,), generator=g)
            opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
            fw, bw, st = [], [], []
            for i in range(warmup + steps):
                opt.zero_grad()
                t0 = time.perf_counter()
                loss = F.cross_entropy(model(x), y)
                t1 = time.perf_counter()
                loss.backward()
                t2 = time.perf_counter()
                opt.step()
                t3 = time.perf_counter()
                if i >= warmup:
                    fw.append((t1 - t0) * 1e3)
                    bw.append((t2 - t1) * 1e3)
                    st.append((t3 - t2) * 1e3)
            model.eval()
            evaluation = {"no_grad": [], "inference_mode": []}
            for i in range(warmup + steps):
                for mode, times in evaluation.items():
                    with (torch.no_grad() if mode == "no_grad" else torch.inference_mode()):
                        t0 = time.perf_counter()
                        model(x)
                        if i >= warmup:
                            times.append((time.perf_counter() - t0) * 1e3)
            total = [a + b + c for a, b, c in zip(fw, bw, st)]
            rows.append({"model": name, "threads": threads, "batch": batch,
                         "step_ms": round(statistics.median(total), 3),
                         "forward_ms": round(statistics.median(fw), 3),
                         "backward_ms": round(statistics.median(bw), 3),
                         "optimizer_ms": round(statistics.median(st), 3),
                         "eval_no_grad_ms": round(statistics.median(evaluation["no_grad"]), 3),
                         "eval_inference_mode_ms": round(statistics.median(evaluation["inference_mode"]), 3)})
            print(f"pytorch {name} threads {threads}: {statistics.median(total):.1f} ms", flush=True)
    out = sys.argv[1] if len(sys.argv) > 1 else "dense-step-pytorch.json"
    with open(out + ".tmp", "w") as f:
        json.dump(rows, f, indent=2)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
