#!/usr/bin/env bash
# Qwen2 decoder, omni vs PyTorch (transformers' Qwen2ForCausalLM), random weights, float32, the
# same shapes and thread count: prefill tokens/s at 128 and 512 tokens and cached decode tokens/s
# (after a 128-token prefill), at omni's tiny preset and the Qwen2.5-0.5B shape.
#   scripts/decoder_vs_pytorch.sh [build dir]     (default build-decoder; builds decoder_bench)
#   PYTHON=/path/to/python  interpreter with torch + transformers (default: the hf venv)
#   THREADS=2               threads for both sides
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-decoder}
threads=${THREADS:-2}
python=${PYTHON:-$root/build/pyvenv-hf/bin/python}
[ -x "$python" ] || { echo "no python at $python (run scripts/hf_deps.sh or set PYTHON)" >&2; exit 1; }
cmake --build "$build" --target decoder_bench -j1 >/dev/null
export OMP_WAIT_POLICY=passive
omni_json=$(mktemp)
trap 'rm -f "$omni_json"' EXIT
OMNI_NUM_THREADS=$threads "$build/benchmarks/decoder_bench" --benchmark_format=json --benchmark_min_time=1 >"$omni_json" 2>/dev/null
OMNI_JSON=$omni_json THREADS=$threads "$python" - <<'PY'
import json, os, time
import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

torch.set_num_threads(int(os.environ["THREADS"]))
presets = {0: ("tiny", dict(vocab_size=256, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                            intermediate_size=176, tie_word_embeddings=True)),
           1: ("Qwen2.5-0.5B", dict(vocab_size=151936, hidden_size=896, num_hidden_layers=24, num_attention_heads=14,
                                    num_key_value_heads=2, intermediate_size=4864, tie_word_embeddings=True))}
omni = {}
for b in json.load(open(os.environ["OMNI_JSON"]))["benchmarks"]:
    kind, preset, n = b["name"].split("/")[:3]
    omni[(kind.replace("BM_", "").lower(), int(preset), int(n))] = b["tokens/s"]

def best(f, reps):
    f()  # warm-up
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return min(ts)

print(f"{'model':14} {'case':14} {'omni tok/s':>12} {'torch tok/s':>12}   (torch {torch.__version__}, {os.environ['THREADS']} threads)")
for p, (name, kw) in presets.items():
    torch.manual_seed(0)
    m = Qwen2ForCausalLM(Qwen2Config(rope_theta=1e6, rms_norm_eps=1e-6, max_position_embeddings=2048, use_sliding_window=False,
                                     attn_implementation="eager", **kw)).float().eval()
    with torch.no_grad():
        for n in (128, 512):
            ids = (torch.arange(n) * 7919 % kw["vocab_size"])[None]
            t = best(lambda: m(input_ids=ids, use_cache=False), 3 if p else 20)
            print(f"{name:14} {'prefill ' + str(n):14} {omni.get(('prefill', p, n), float('nan')):12.1f} {n / t:12.1f}")
        steps = 16 if p else 32
        ids = (torch.arange(128 + steps) * 7919 % kw["vocab_size"])[None]
        def decode():
            past = m(input_ids=ids[:, :128], use_cache=True).past_key_values
            t0 = time.perf_counter()
            for i in range(128, 128 + steps):
                past = m(input_ids=ids[:, i:i + 1], past_key_values=past, use_cache=True).past_key_values
            return time.perf_counter() - t0
        decode()
        t = min(decode() for _ in range(2 if p else 5))
        print(f"{name:14} {'decode':14} {omni.get(('decode', p, steps), float('nan')):12.1f} {steps / t:12.1f}")
PY
