// Function multiversioning for the vectorised inner loops. Each multiversioned function is
// compiled once per x86 vector target (AVX-512, AVX2 + FMA, baseline x86-64) and a call goes
// to the one selected at load time: the widest the CPU has, or a narrower one chosen with
// set_cpu_target (FASTRANK_CPU_TARGET in the environment), so that the AVX2 and baseline code
// can be measured on any machine. GCC's target_clones is not used: its "avx2" clone has no
// FMA, and it cannot be switched at run time. A build with FASTRANK_ONLY_CPU_TARGET set
// (CMake FASTRANK_CPU_TARGET) compiles a single target.
#pragma once

#include <cstdint>

namespace fastrank {

enum class CpuTarget : int { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };

// Every target, widest first: the order of preference.
constexpr CpuTarget kCpuTargets[] = {CpuTarget::kAvx512, CpuTarget::kAvx2, CpuTarget::kBaseline};

// The target multiversioned functions run now.
CpuTarget cpu_target();
// Whether this build has code for target t and this CPU can run it.
bool cpu_target_usable(CpuTarget t);
// Selects a usable target; returns false (and changes nothing) for an unusable one.
bool set_cpu_target(CpuTarget t);
const char* cpu_target_name(CpuTarget t);

}  // namespace fastrank

#define FASTRANK_INLINE inline __attribute__((always_inline))

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FASTRANK_X86_TARGETS 1
#define FASTRANK_ATTR_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,bmi,bmi2,popcnt")))
#define FASTRANK_ATTR_AVX2 __attribute__((target("avx2,fma,bmi,bmi2,popcnt")))
#else
#define FASTRANK_X86_TARGETS 0
#endif

// FASTRANK_MULTIVERSION(ret, name, (params...), (args...), impl): defines `ret name(params)`
// running `return impl(args)` compiled for the selected target. `impl` (last, so that a
// template's commas may stay unbracketed) is always-inline, so each version vectorises for its
// own instruction set.
#if FASTRANK_X86_TARGETS && !defined(FASTRANK_ONLY_CPU_TARGET)
#define FASTRANK_MULTIVERSION(ret, name, params, args, ...)                  \
  FASTRANK_ATTR_AVX512 static ret name##_avx512 params { return __VA_ARGS__ args; } \
  FASTRANK_ATTR_AVX2 static ret name##_avx2 params { return __VA_ARGS__ args; }     \
  static ret name##_baseline params { return __VA_ARGS__ args; }                    \
  ret name params {                                                          \
    switch (::fastrank::cpu_target()) {                                      \
      case ::fastrank::CpuTarget::kAvx512: return name##_avx512 args;        \
      case ::fastrank::CpuTarget::kAvx2: return name##_avx2 args;            \
      default: return name##_baseline args;                                  \
    }                                                                        \
  }
#elif FASTRANK_X86_TARGETS && FASTRANK_ONLY_CPU_TARGET == 2
#define FASTRANK_MULTIVERSION(ret, name, params, args, ...) \
  FASTRANK_ATTR_AVX512 ret name params { return __VA_ARGS__ args; }
#elif FASTRANK_X86_TARGETS && FASTRANK_ONLY_CPU_TARGET == 1
#define FASTRANK_MULTIVERSION(ret, name, params, args, ...) \
  FASTRANK_ATTR_AVX2 ret name params { return __VA_ARGS__ args; }
#else
#define FASTRANK_MULTIVERSION(ret, name, params, args, ...) \
  ret name params { return __VA_ARGS__ args; }
#endif
