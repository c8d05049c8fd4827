"""Combines the measurements of measure.sh into the committed results files (see measure.sh)."""
import json
import os
import sys

src, results = sys.argv[1], sys.argv[2]
command = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE sh benchmarks/dense-step/measure.sh"


def load(name):
    with open(os.path.join(src, name)) as f:
        return json.load(f)


def write(name, value):
    out = os.path.join(results, name)
    with open(out + ".tmp", "w") as f:
        json.dump(value, f, indent=2)
    os.replace(out + ".tmp", out)
    print(json.dumps(value, indent=2))


# The step, side by side.
ts = {(r["model"], r["threads"]): r for r in load("torchsharp.json")}
py = {(r["model"], r["threads"]): r for r in load("pytorch.json")}
rows = []
for key, t in ts.items():
    p = py[key]
    row = {"model": t["model"], "threads": t["threads"], "batch": t["batch"],
           "torchsharp_ms": t["step_ms"], "pytorch_ms": p["step_ms"], "ratio": round(t["step_ms"] / p["step_ms"], 3)}
    for phase in ("forward_ms", "backward_ms", "optimizer_ms", "eval_no_grad_ms", "eval_inference_mode_ms"):
        row["torchsharp_" + phase] = t[phase]
        row["pytorch_" + phase] = p[phase]
    rows.append(row)
write("dense-step-vs-pytorch.json", rows)

# The ResNet-20 step operator by operator: per call and per step (times the count in the network).
ts_ops = {(r["op"], r["threads"]): r for r in load("ops-torchsharp.json")}
py_ops = {(r["op"], r["threads"]): r for r in load("ops-pytorch.json")}
ops, totals = [], {}
for key, t in ts_ops.items():
    p = py_ops[key]
    n = t["count"]
    ts_step = n * (t["forward_ms"] + t["backward_ms"])
    py_step = n * (p["forward_ms"] + p["backward_ms"])
    ops.append({"op": t["op"], "threads": t["threads"], "count": n,
                "torchsharp_forward_ms": t["forward_ms"], "pytorch_forward_ms": p["forward_ms"],
                "torchsharp_backward_ms": t["backward_ms"], "pytorch_backward_ms": p["backward_ms"],
                "torchsharp_per_step_ms": round(ts_step, 3), "pytorch_per_step_ms": round(py_step, 3),
                "difference_per_step_ms": round(ts_step - py_step, 3)})
    tot = totals.setdefault(t["threads"], {"threads": t["threads"], "torchsharp_ms": 0.0, "pytorch_ms": 0.0})
    tot["torchsharp_ms"] += ts_step
    tot["pytorch_ms"] += py_step
for tot in totals.values():
    tot["torchsharp_ms"] = round(tot["torchsharp_ms"], 3)
    tot["pytorch_ms"] = round(tot["pytorch_ms"], 3)
    tot["ratio"] = round(tot["torchsharp_ms"] / tot["pytorch_ms"], 3)
write("dense-step-ops.json", {"model": "resnet20", "batch": 128, "command": command,
                               "sum_of_operators": list(totals.values()), "operators": ops})

# TorchSharp's step under libtorch settings.
settings = {}
with open("benchmarks/dense-step/variants.txt") as f:
    for line in f:
        if line.strip() and not line.startswith("#"):
            name, env = line.strip().split("|", 1)
            settings[name] = env
variants = []
default = {(r["model"], r["threads"]): r["step_ms"] for r in load("variant-default.json")}
for name, env in settings.items():
    for r in load(f"variant-{name}.json"):
        variants.append({"variant": name, "environment": env, "model": r["model"], "threads": r["threads"],
                         "step_ms": r["step_ms"], "forward_ms": r["forward_ms"], "backward_ms": r["backward_ms"],
                         "ratio_to_default": round(r["step_ms"] / default[(r["model"], r["threads"])], 3),
                         "pytorch_ms": py[(r["model"], r["threads"])]["step_ms"],
                         "ratio_to_pytorch": round(r["step_ms"] / py[(r["model"], r["threads"])]["step_ms"], 3)})
write("dense-step-variants.json", {"command": command, "runs": variants})
