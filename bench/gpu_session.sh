#!/usr/bin/env bash
# Everything a session with a lent GPU checks, in one call of the device tool (its machine
# keeps nothing between leases, and one command may run 10 minutes):
#   build with CUDA for the card, the device tests on CUDA, compute-sanitizer memcheck and
#   racecheck over the CUDA tests, the CUDA benchmarks and their table, and a per-kernel
#   profile of the long-list algorithms (bench/profile_cuda.py).
# Logs, the benchmark JSON and the table go to $OUT (default gpu_out/); a summary of every
# step is printed last. Usage (repository root, on the GPU machine):
#   bash bench/gpu_session.sh [build] [tests] [sanitize] [bench] [profile]   (default: all)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
STEPS=${*:-build tests sanitize bench profile}
ARCHS=${FASTRANK_CUDA_ARCHS:-90-real}
PY=${PYTHON:-python3}
summary="$OUT/summary.txt"
: > "$summary"

step() {  # step NAME SECONDS COMMAND...: runs COMMAND under a time limit, logs to $OUT/NAME.log
  local name=$1 limit=$2 t0=$SECONDS rc
  shift 2
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  echo "$name: exit $rc after $((SECONDS - t0)) s ($(tail -n 1 "$OUT/$name.log" | cut -c1-150))" >> "$summary"
  return $rc
}

{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv
  "$PY" -c "import torch; print('torch', torch.__version__, torch.version.cuda, torch.cuda.get_device_name())"
  nvcc --version | tail -n 2
} > "$OUT/device.txt" 2>&1

for s in $STEPS; do
  case $s in
    build)
      # --no-deps: the machine has torch and numpy and no package index.
      step build 420 "$PY" -m pip install --no-build-isolation --no-deps -v . \
        -C cmake.define.FASTRANK_CUDA=ON -C "cmake.define.FASTRANK_CUDA_ARCHS=$ARCHS"
      "$PY" -c "import fastrank; assert fastrank.cuda_available(), 'CUDA kernels built but cannot run'" \
        >> "$OUT/build.log" 2>&1 || echo "build: fastrank.cuda_available() is False" >> "$summary"
      ;;
    tests)
      step tests 300 "$PY" -m pytest tests/test_device_*.py tests/test_ranking_ops.py -q -p no:cacheprovider
      ;;
    sanitize)
      # Few hypothesis examples: every kernel still runs, under the tools' slowdown.
      for tool in memcheck racecheck; do
        HYPOTHESIS_PROFILE=sanitizer step "$tool" 240 compute-sanitizer --tool "$tool" --error-exitcode 99 \
          "$PY" -m pytest tests/test_device_*.py -q -p no:cacheprovider -k cuda
      done
      ;;
    bench)
      step bench 420 "$PY" -m pytest bench/test_bench_cuda.py -q -p no:cacheprovider \
        --benchmark-json "$OUT/bench_cuda.json"
      "$PY" bench/report.py "$OUT/bench_cuda.json" > "$OUT/RESULTS_cuda.md" 2>> "$OUT/bench.log"
      ;;
    profile)
      step profile 240 "$PY" bench/profile_cuda.py --out "$OUT/profile.txt"
      ;;
    *) echo "unknown step $s" >> "$summary" ;;
  esac
done

cat "$OUT/device.txt"
[ -f "$OUT/RESULTS_cuda.md" ] && cat "$OUT/RESULTS_cuda.md"
[ -f "$OUT/profile.log" ] && tail -n 8 "$OUT/profile.log"
cat "$summary"
