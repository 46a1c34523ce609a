"""NaN, +-inf and -0.0 through every op family of omni's functional API, as PyTorch computes them
in float64. Writes <out_dir>/nan_semantics.txt, one tensor per line:

    <name> <ndim> <dims...> <values...>

values as Python's float.hex() ('inf', '-inf', 'nan', '-0x0.0p+0'), so the C++ side reads them
bit for bit with strtod; bool results are written as 0 / 1. Inputs are written too (x, rows, ...),
so both sides run on the same numbers. tests/ops/nan_semantics_test.cpp runs the same ops."""
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
nan, inf = math.nan, math.inf
out = {}


def put(name, t):
    out[name] = t.detach().to(torch.float64).contiguous()


# Specials and ordinary values; every unary op sees all of them.
special = torch.tensor([nan, inf, -inf, -0.0, 0.0, 1.0, -1.0, 0.5, -2.5, 3.0])
put("x", special)
# Rows for the row ops (reductions, softmax, norms): one special pattern per row.
rows = torch.tensor([
    [1.0, 2.0, -0.5, 0.25],
    [nan, 1.0, 2.0, 3.0],
    [1.0, 2.0, 3.0, nan],
    [inf, 1.0, 2.0, 3.0],
    [-inf, 1.0, 2.0, 3.0],
    [inf, -inf, 1.0, 2.0],
    [inf, inf, 1.0, 2.0],
    [-inf, -inf, -inf, -inf],
    [nan, inf, -inf, 1.0],
    [-0.0, -0.0, -0.0, -0.0],
    [0.0, 0.0, 0.0, 0.0],
    [1e300, 2.0, -1.0, 1.0],  # its variance overflows float64
])
put("rows", rows)
w = torch.tensor([0.5, -1.0, 2.0, 1.5])
b = torch.tensor([0.1, 0.0, -0.2, 0.3])
put("w", w)
put("b", b)

# Unary math.
unary = {
    "neg": torch.neg, "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt,
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": F.relu, "gelu": F.gelu,
    "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"), "silu": F.silu, "abs": torch.abs,
    "square": torch.square, "softplus": F.softplus,
}
for name, f in unary.items():
    put("unary." + name, f(special))

# Binary arithmetic with broadcasting: a [10] against b [10, 1] gives every pair.
a2, b2 = special, special.unsqueeze(1)
for name, f in {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
                "maximum": torch.maximum, "minimum": torch.minimum}.items():
    put("binary." + name, f(a2, b2))
for name, f in {"eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt,
                "ge": torch.ge}.items():
    put("compare." + name, f(a2, b2))

# Scalar ops (x + s, x * s, x ** p) with ordinary and special scalars.
for tag, s in {"2": 2.0, "inf": inf, "ninf": -inf, "nan": nan, "0": 0.0}.items():
    put("scalar.add." + tag, special + s)
    put("scalar.mul." + tag, special * s)
for tag, p in {"2": 2.0, "3": 3.0, "0.5": 0.5, "-1": -1.0, "-0.5": -0.5, "0": 0.0, "1.5": 1.5}.items():
    put("scalar.pow." + tag, torch.pow(special, p))

# where / masked_fill: the unselected NaN must not leak.
cond = torch.tensor([True, False, True, False, True, False, True, False, True, False])
put("cond", cond)
put("where", torch.where(cond, special, special.flip(0)))
for tag, v in {"ninf": -inf, "nan": nan, "big": -1e9}.items():
    put("masked_fill." + tag, special.masked_fill(cond, v))

# Reductions along the last axis and over everything.
put("sum", rows.sum(-1))
put("mean", rows.mean(-1))
put("max", torch.amax(rows, -1))
put("logsumexp", torch.logsumexp(rows, -1))
put("sum.all", rows.sum())
put("max.all", torch.amax(rows))
put("sum.cols", rows.sum(0))  # a sum over the leading axis (omni's column-sum path needs >= 16 rows, see tall)
tall = torch.cat([rows, rows[:6]], 0)  # 18 rows: omni takes its column-sum kernel
put("tall", tall)
put("sum.tall", tall.sum(0))
put("mean.tall", tall.mean(0))

# Softmax family and the norms, one row per pattern.
put("softmax", F.softmax(rows, -1))
put("log_softmax", F.log_softmax(rows, -1))
put("softmax.axis0", F.softmax(rows, 0))
put("layer_norm", F.layer_norm(rows, (4,), w, b, 1e-5))
put("layer_norm.plain", F.layer_norm(rows, (4,), None, None, 1e-5))
# rms_norm is not in torch 1.13: the transformers formula (Qwen2RMSNorm), in float64.
put("rms_norm", w * (rows * torch.rsqrt(rows.pow(2).mean(-1, keepdim=True) + 1e-6)))
put("l2_normalize", F.normalize(rows, dim=-1, eps=1e-12))

# Matmul and linear: a special in one operand meets zeros and both signs in the other.
mb = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, 1.0], [-1.0, 0.0, 0.5], [0.5, 0.0, 2.0]])
put("mb", mb)
put("matmul", rows @ mb)
put("linear", F.linear(rows, mb.t(), torch.tensor([0.5, -0.5, 1.0])))
put("linear.bias", torch.tensor([0.5, -0.5, 1.0]))

# Cross-entropy per row (one row per batch, so a non-finite row does not hide the others), and
# with label smoothing.
targets = torch.tensor([0, 1, 3, 0, 0, 2, 1, 0, 3, 2, 1, 3])
put("targets", targets)
for i in range(rows.shape[0]):
    put(f"cross_entropy.{i}", F.cross_entropy(rows[i:i + 1], targets[i:i + 1]))
    put(f"cross_entropy_smooth.{i}", F.cross_entropy(rows[i:i + 1], targets[i:i + 1], label_smoothing=0.1))

# Fused attention against the math it fuses (torch 1.13 has no scaled_dot_product_attention):
# softmax(q k^T / sqrt(d), masked keys at -inf) v. B = 2, H = 1, 3 tokens, d = 4. Batch 0: a NaN
# in query 2; batch 1: a NaN in value 1 and key 2 masked. `attention.empty_row` masks every key
# of batch 1.
g = torch.Generator().manual_seed(0)
q, k, v = (torch.randn(2, 1, 3, 4, generator=g) for _ in range(3))
q[0, 0, 2, 1] = nan
v[1, 0, 1, 3] = nan
for name, t in {"att.q": q, "att.k": k, "att.v": v}.items():
    put(name, t)


def attention(q, k, v, mask):
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    return F.softmax(s.masked_fill(mask[:, None, None, :], -inf), -1) @ v


mask = torch.tensor([[False, False, False], [False, False, True]])
put("att.mask", mask)
put("attention", attention(q, k, v, mask))
put("attention.empty_row", attention(q, k, v, torch.tensor([[False, False, False], [True, True, True]])))

os.makedirs(sys.argv[1], exist_ok=True)
with open(os.path.join(sys.argv[1], "nan_semantics.txt"), "w") as f:
    for name in sorted(out):
        t = out[name]
        vals = [float(v).hex() for v in t.flatten().tolist()]
        f.write(" ".join([name, str(t.dim())] + [str(d) for d in t.shape] + vals) + "\n")
print(f"wrote {len(out)} tensors to {sys.argv[1]}/nan_semantics.txt")
