#!/bin/sh
# Times the same dense training step in TorchSharp (dense-step.cs) and PyTorch 1.13 (dense_step.py) in one run and
# writes benchmarks/results/dense-step-vs-pytorch.json in the schema
#   [{"model", "threads", "batch", "torchsharp_ms", "pytorch_ms", ...per-phase medians}],
# then the per-operator account of the ResNet-20 step (ops.cs, ops.py) to benchmarks/results/dense-step-ops.json,
# then TorchSharp's step under each libtorch setting in benchmarks/dense-step/variants.txt to
# benchmarks/results/dense-step-variants.json.
# Run on an idle machine, from the repository root:  sh benchmarks/dense-step/measure.sh
set -eu
export OMP_WAIT_POLICY=PASSIVE
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
results=${OUT:-benchmarks/results}
dotnet run benchmarks/dense-step/dense-step.cs -- "$dir/torchsharp.json"
/usr/bin/python3 benchmarks/dense-step/dense_step.py "$dir/pytorch.json"
dotnet run benchmarks/dense-step/ops.cs -- "$dir/ops-torchsharp.json"
/usr/bin/python3 benchmarks/dense-step/ops.py "$dir/ops-pytorch.json"
grep -v '^#' benchmarks/dense-step/variants.txt | while IFS='|' read -r name settings; do
  [ -n "$name" ] || continue
  echo "variant $name: $settings"
  env $settings dotnet run benchmarks/dense-step/dense-step.cs -- "$dir/variant-$name.json"
done
/usr/bin/python3 benchmarks/dense-step/combine.py "$dir" "$results"
