"""torch.optim reference for omni's optimisers (run by tests/parity/optim_parity_test.cpp).

The C++ test runs omni's AdamW and SGD for a few steps and writes, per case and parameter,
<case>.<name>.init.f64 (the starting value), <case>.<name>.grad<t>.f64 (the gradient at step t,
absent when the parameter had none) and <case>.<name>.step<t>.f64 (omni's value after step t),
all raw little-endian float64, plus manifest.json describing groups, options and the lr per
step. This script replays the same steps with torch.optim.AdamW / torch.optim.SGD in float64
and compares every value after every step.

Usage: /usr/bin/python3 optim_parity.py DIR   (Debian's python3-torch)
Exit 0 when every difference is within 1e-10, 1 otherwise.
"""
import json
import os
import sys

import numpy as np
import torch

TOLERANCE = 1e-10


def load(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype="<f8").reshape(shape))


def make_optimizer(options, groups):
    kind = options["optimizer"]
    if kind == "adamw":
        return torch.optim.AdamW(groups, lr=1.0, betas=tuple(options["betas"]), eps=options["eps"],
                                 weight_decay=options["weight_decay"])
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=1.0, momentum=options["momentum"], dampening=options["dampening"],
                               nesterov=options["nesterov"], weight_decay=options["weight_decay"])
    raise ValueError(f"unknown optimizer {kind!r}")


def run_case(directory, case, steps):
    """Returns the largest |omni - torch| over every parameter and step of one case."""
    name = case["name"]
    params, groups = [], []
    for g in case["groups"]:
        group = {"params": [], "lr_scale": g["lr_scale"]}
        if g["weight_decay"] is not None:  # null: the optimiser's default, as in omni
            group["weight_decay"] = g["weight_decay"]
        for p in g["params"]:
            shape = tuple(p["shape"])
            t = load(os.path.join(directory, f"{name}.{p['name']}.init.f64"), shape).clone().requires_grad_(True)
            params.append((p, shape, t))
            group["params"].append(t)
        groups.append(group)
    opt = make_optimizer(case["options"], groups)

    worst = 0.0
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = case["lrs"][step] * group["lr_scale"]  # omni: step(lr) times the group's scale
        for p, shape, t in params:
            if step in p["grad_steps"]:
                t.grad = load(os.path.join(directory, f"{name}.{p['name']}.grad{step}.f64"), shape)
            else:
                t.grad = None  # torch.optim skips it, as omni does
        opt.step()
        for p, shape, t in params:
            ours = load(os.path.join(directory, f"{name}.{p['name']}.step{step}.f64"), shape)
            diff = (t.detach() - ours).abs().max().item()
            if diff > TOLERANCE:
                print(f"  {name}: {p['name']} differs by {diff:.3g} after step {step}")
            worst = max(worst, diff)
    return worst


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    directory = sys.argv[1]
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    torch.set_default_dtype(torch.float64)
    ok = True
    for case in manifest["cases"]:
        worst = run_case(directory, case, manifest["steps"])
        passed = worst <= TOLERANCE
        ok = ok and passed
        print(f"optim parity {case['name']}: max |omni - torch| = {worst:.3g} over {manifest['steps']} steps "
              f"({'ok' if passed else 'FAIL'}, tolerance {TOLERANCE:g}; torch {torch.__version__})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
