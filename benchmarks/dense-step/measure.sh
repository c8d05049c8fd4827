#!/bin/sh
# Times the same dense training step in TorchSharp (dense-step.cs) and PyTorch 1.13 (dense_step.py) in one run and
# writes benchmarks/results/dense-step-vs-pytorch.json in the schema
#   [{"model", "threads", "batch", "torchsharp_ms", "pytorch_ms", ...per-phase medians}]
# Run on an idle machine, from the repository root:  sh benchmarks/dense-step/measure.sh
set -eu
export OMP_WAIT_POLICY=PASSIVE
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
dotnet run benchmarks/dense-step/dense-step.cs -- "$dir/torchsharp.json"
/usr/bin/python3 benchmarks/dense-step/dense_step.py "$dir/pytorch.json"
/usr/bin/python3 - "$dir/torchsharp.json" "$dir/pytorch.json" "${OUT:-benchmarks/results/dense-step-vs-pytorch.json}" <<'PY'
import json, os, sys
ts = {(r["model"], r["threads"]): r for r in json.load(open(sys.argv[1]))}
py = {(r["model"], r["threads"]): r for r in json.load(open(sys.argv[2]))}
rows = []
for key, t in ts.items():
    p = py[key]
    row = {"model": t["model"], "threads": t["threads"], "batch": t["batch"],
           "torchsharp_ms": t["step_ms"], "pytorch_ms": p["step_ms"],
           "ratio": round(t["step_ms"] / p["step_ms"], 3)}
    for phase in ("forward_ms", "backward_ms", "optimizer_ms"):
        row["torchsharp_" + phase] = t[phase]
        row["pytorch_" + phase] = p[phase]
    rows.append(row)
out = sys.argv[3]
with open(out + ".tmp", "w") as f:
    json.dump(rows, f, indent=2)
os.replace(out + ".tmp", out)
print(json.dumps(rows, indent=2))
PY
