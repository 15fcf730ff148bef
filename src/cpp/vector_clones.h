// Function multiversioning for the vectorised inner loops: one clone per x86 vector width,
// the dynamic loader picks the widest the CPU has (other targets build one version).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FASTRANK_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FASTRANK_VECTOR_CLONES
#endif
#define FASTRANK_INLINE inline __attribute__((always_inline))
