#include "cpu_targets.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace fastrank {
namespace {

bool cpu_has(CpuTarget t) {
#if FASTRANK_X86_TARGETS
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
                    __builtin_cpu_supports("popcnt");
  switch (t) {
    case CpuTarget::kAvx512:
      return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    case CpuTarget::kAvx2:
      return avx2;
    default:
      return true;
  }
#else
  return t == CpuTarget::kBaseline;
#endif
}

bool built_for(CpuTarget t) {
#if !FASTRANK_X86_TARGETS
  return t == CpuTarget::kBaseline;
#elif defined(FASTRANK_ONLY_CPU_TARGET)
  return int(t) == FASTRANK_ONLY_CPU_TARGET;
#else
  (void)t;
  return true;
#endif
}

CpuTarget initial_target() {
  // FASTRANK_CPU_TARGET narrows the choice (an unknown or unusable name is ignored here and
  // reported by the Python package at import).
  const char* env = std::getenv("FASTRANK_CPU_TARGET");
  for (CpuTarget t : kCpuTargets)
    if (env && std::strcmp(env, cpu_target_name(t)) == 0 && cpu_target_usable(t)) return t;
  for (CpuTarget t : kCpuTargets)
    if (cpu_target_usable(t)) return t;
  return CpuTarget::kBaseline;  // a single-target build on a CPU without it: Python refuses to load
}

std::atomic<int>& active() {
  static std::atomic<int> target{int(initial_target())};
  return target;
}

}  // namespace

bool cpu_target_usable(CpuTarget t) { return built_for(t) && cpu_has(t); }

CpuTarget cpu_target() { return CpuTarget(active().load(std::memory_order_relaxed)); }

bool set_cpu_target(CpuTarget t) {
  if (!cpu_target_usable(t)) return false;
  active().store(int(t), std::memory_order_relaxed);
  return true;
}

const char* cpu_target_name(CpuTarget t) {
  switch (t) {
    case CpuTarget::kAvx512: return "avx512";
    case CpuTarget::kAvx2: return "avx2";
    default: return "baseline";
  }
}

}  // namespace fastrank
