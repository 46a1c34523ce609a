#!/usr/bin/env bash
# omni's WordPiece against Hugging Face tokenizers on the same sentences (all 117,659 WordNet
# glosses, 8.8 MB) and the same job: uncased BERT vocab, [CLS] ... [SEP], padded or truncated
# to 256. Builds benchmarks/tokenizer_bench in build-bench (Release, -march=native), runs it,
# times tokenizers in the venv of scripts/text_deps.sh (best of 3, one process per thread count
# because rayon sizes its pool once; batches of 256 on both sides), and prints a comparison.
# Usage: scripts/tokenizer_vs_hf.sh [venv dir, default build/pyvenv]
# Needs Debian's wordnet-base (the glosses) besides scripts/deps.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/build/pyvenv}
build=${BUILD_DIR:-$root/build-bench}
vocab=$("$root/scripts/text_deps.sh" "$venv")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOMNI_BUILD_TESTS=OFF -DOMNI_BUILD_EXAMPLES=OFF \
  -DOMNI_ENABLE_CUDA=OFF -DOMNI_BUILD_BENCHMARKS=ON -DOMNI_NATIVE=ON >/dev/null
cmake --build "$build" --target tokenizer_bench >/dev/null
OMNI_VOCAB=$vocab "$build/benchmarks/tokenizer_bench" --benchmark_filter='wordpiece' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/omni.json" --benchmark_out_format=json

hf() {  # $1 = threads; prints one JSON line of seconds per pass
  RAYON_NUM_THREADS=$1 TOKENIZERS_PARALLELISM=true "$venv/bin/python" - "$vocab" <<'EOF'
import json, os, sys, time
from tokenizers.implementations import BertWordPieceTokenizer
texts = []
for part in ("noun", "verb", "adj", "adv"):
    for line in open(f"/usr/share/wordnet/data.{part}", "rb").read().split(b"\n"):
        if line.startswith(b"  ") or b" | " not in line:
            continue
        texts.append(line.split(b" | ", 1)[1].rstrip(b" \r").decode())
plain = BertWordPieceTokenizer(sys.argv[1], lowercase=True)
tok = BertWordPieceTokenizer(sys.argv[1], lowercase=True)
tok.enable_truncation(256)
tok.enable_padding(length=256)
batches = [texts[i:i + 256] for i in range(0, len(texts), 256)]
def best(f):
    times = []
    for _ in range(3):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return min(times)
r = {"batch": best(lambda: [tok.encode_batch(b) for b in batches])}
if os.environ["RAYON_NUM_THREADS"] == "1":  # the Python loops are single-threaded anyway
    r["encode"] = best(lambda: [tok.encode(t) for t in texts])
    r["tokenize"] = best(lambda: [plain.encode(t, add_special_tokens=False) for t in texts])
r["n"], r["bytes"] = len(texts), sum(len(t.encode()) for t in texts)
print(json.dumps(r))
EOF
}
hf 1 >"$out/hf1.json"
hf 2 >"$out/hf2.json"

python3 - "$out" <<'EOF'
import json, sys
d = sys.argv[1]
omni = {b["run_name"].removesuffix("/real_time"): b["real_time"] / 1e3 for b in json.load(open(f"{d}/omni.json"))["benchmarks"]
        if b.get("aggregate_name") == "median"}  # ms -> s
hf1, hf2 = json.load(open(f"{d}/hf1.json")), json.load(open(f"{d}/hf2.json"))
n, mb = hf1["n"], hf1["bytes"] / 1e6
rows = [("ids only, one text at a time", omni["BM_wordpiece_tokenize"], hf1["tokenize"]),
        ("one text at a time, 1 thread", omni["BM_wordpiece_encode"], hf1["encode"]),
        ("batch, 1 thread", omni["BM_wordpiece_encode_batch/threads:1"], hf1["batch"]),
        ("batch, 2 threads", omni["BM_wordpiece_encode_batch/threads:2"], hf2["batch"])]
print(f"\n{n} sentences, {mb:.2f} MB; encode to 256 with [CLS]/[SEP] and padding (batches of 256)")
print(f"{'':30} {'omni sent/s':>12} {'omni MB/s':>10} {'hf sent/s':>12} {'hf MB/s':>9} {'omni/hf':>8}")
for name, o, h in rows:
    print(f"{name:30} {n / o:12,.0f} {mb / o:10.1f} {n / h:12,.0f} {mb / h:9.1f} {h / o:8.2f}")
print("(hf one at a time is a Python loop over encode, so it includes Python's per-call cost; "
      "its Encoding also carries token strings, offsets and type ids)")
EOF
