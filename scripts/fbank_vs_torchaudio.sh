#!/usr/bin/env bash
# Times the Omni-C log-mel filterbank of omni (benchmarks/fbank_bench.cpp) and of torchaudio
# (torchaudio.compliance.kaldi.fbank, Debian's python3-torchaudio) on the same 10 s clip of
# espeak-ng speech at 32 kHz, both on one thread, and prints the speed ratio.
# Usage: scripts/fbank_vs_torchaudio.sh [path/to/fbank_bench]   (default: build-bench/benchmarks/fbank_bench,
#        which scripts/bench.sh builds)
# Needs: /usr/bin/python3 with torchaudio, espeak-ng.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bench=${1:-$root/build-bench/benchmarks/fbank_bench}
py=${OMNI_TORCH_PYTHON:-/usr/bin/python3}
[[ -x $bench ]] || { echo "fbank_vs_torchaudio.sh: no $bench (build it: scripts/bench.sh or cmake --build <dir> --target fbank_bench)" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "fbank_vs_torchaudio.sh: needs espeak-ng" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
espeak-ng -v en-us -s 140 -w "$work/speech.wav" \
  "Self-supervised learning pulls two views of the same clip together. The features separate speech from music."

# The clip: the speech resampled to 32 kHz and repeated up to exactly 10 s; then torchaudio's time.
ta_seconds=$("$py" - "$work" <<'EOF'
import statistics, sys, time
import torch, torchaudio
import torchaudio.compliance.kaldi as kaldi

work = sys.argv[1]
x, rate = torchaudio.load(f"{work}/speech.wav")
x = torchaudio.functional.resample(x, rate, 32000)
x = x.repeat(1, -(-320000 // x.shape[1]))[:, :320000].contiguous()
torchaudio.save(f"{work}/clip.wav", x, 32000, encoding="PCM_F", bits_per_sample=32)
torch.set_num_threads(1)
opts = dict(htk_compat=True, sample_frequency=32000, use_energy=False, window_type="hanning",
            num_mel_bins=128, dither=0.0, frame_shift=39.12, frame_length=25.0)
kaldi.fbank(x, **opts)  # warm-up
times = []
for _ in range(30):
    t0 = time.perf_counter()
    kaldi.fbank(x, **opts)
    times.append(time.perf_counter() - t0)
print(statistics.median(times))
EOF
)

json="$work/omni.json"
OMNI_FBANK_BENCH_WAV="$work/clip.wav" "$bench" --benchmark_filter='^BM_fbank_omni_c' \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$json" --benchmark_out_format=json >"$work/bench.log" 2>&1 || { cat "$work/bench.log" >&2; exit 1; }
omni_seconds=$("$py" - "$json" <<'EOF'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
median = next(r for r in runs if r.get("aggregate_name") == "median")
scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[median["time_unit"]]
print(median["real_time"] * scale)
EOF
)

awk -v ta="$ta_seconds" -v om="$omni_seconds" 'BEGIN {
  printf "Omni-C fbank of a 10 s clip at 32 kHz, one thread (medians)\n"
  printf "  torchaudio %8.3f ms   %8.0fx real time\n", ta * 1e3, 10 / ta
  printf "  omni       %8.3f ms   %8.0fx real time\n", om * 1e3, 10 / om
  printf "  omni is %.1fx faster\n", ta / om
}'
