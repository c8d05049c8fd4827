#!/bin/bash
# Issue 5 variants: restriction schedule × seed, restriction off, random init, batch 128 at 0.98.
cd "$(dirname "$0")/.."
dotnet build -c Release samples/Sparsity.Samples.Jackpot > /dev/null
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
run() { local name=$1; shift; dotnet run -c Release --no-build --project samples/Sparsity.Samples.Jackpot -- --model lenet300 --epochs 5 \
  --data /usr/share/datasets/fashion-mnist --cache .cache/pretrained --threads 1 --criteria magnitude --out results/variants/$name "$@" > results/variants/$name.log 2>&1; echo "$name rc=$?"; }
mkdir -p results/variants
for seed in 0 1 2; do
  for schedule in official decaying constant:0.5; do run "s0.9-$schedule-seed$seed" --sparsity 0.9 --seed $seed --schedule $schedule; done
done
run "s0.9-none-seed0" --sparsity 0.9 --seed 0 --restriction none
run "s0.9-randominit-seed0" --sparsity 0.9 --seed 0 --init random
run "s0.98-batch128-seed0" --sparsity 0.98 --seed 0 --batch-size 128
echo done
