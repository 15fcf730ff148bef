#include "graph_rows.h"

#include "cpu_targets.h"

namespace fastrank {
namespace {

// out row i = Σ_j M[i, j] h[j] (transposed: Σ_j M[j, i] h[j]), then ReLU if relu. With the
// width known at compile time a row's sum stays in registers across its few non-zero terms
// (a generic-width row was stored and reloaded per term: 2x slower at 8 nodes × 64).
template <typename T, int F, bool kTransposed>
FASTRANK_INLINE void product_fixed(const T* __restrict m, const T* __restrict h, T* __restrict out, int64_t n,
                                   bool relu) {
  for (int64_t i = 0; i < n; ++i) {
    T acc[F];
    for (int c = 0; c < F; ++c) acc[c] = T(0);
    for (int64_t j = 0; j < n; ++j) {
      const T w = kTransposed ? m[j * n + i] : m[i * n + j];
      if (w == T(0)) continue;  // sparse DAGs: most of M is zero
      const T* __restrict src = h + j * F;
      for (int c = 0; c < F; ++c) acc[c] += w * src[c];
    }
    T* __restrict row = out + i * F;
    if (relu)
      for (int c = 0; c < F; ++c) row[c] = acc[c] > T(0) ? acc[c] : T(0);
    else
      for (int c = 0; c < F; ++c) row[c] = acc[c];
  }
}

template <typename T, bool kTransposed>
FASTRANK_INLINE void product_any(const T* __restrict m, const T* __restrict h, T* __restrict out, int64_t n,
                                 int64_t f, bool relu) {
  if (f == 32) return product_fixed<T, 32, kTransposed>(m, h, out, n, relu);
  if (f == 64) return product_fixed<T, 64, kTransposed>(m, h, out, n, relu);
  if (f == 128) return product_fixed<T, 128, kTransposed>(m, h, out, n, relu);
  for (int64_t i = 0; i < n; ++i) {
    T* __restrict row = out + i * f;
    for (int64_t c = 0; c < f; ++c) row[c] = T(0);
    for (int64_t j = 0; j < n; ++j) {
      const T w = kTransposed ? m[j * n + i] : m[i * n + j];
      if (w == T(0)) continue;
      const T* __restrict src = h + j * f;
      for (int64_t c = 0; c < f; ++c) row[c] += w * src[c];
    }
    if (relu)
      for (int64_t c = 0; c < f; ++c) row[c] = row[c] > T(0) ? row[c] : T(0);
  }
}

// Output widths known at compile time let output rows live in vector registers across the
// whole k loop (instead of a load and a store per multiply-add).
// Two rows per pass, in two named accumulators (an acc[R][F] array measured 1.7x slower:
// GCC keeps it in memory), so each weight row loaded feeds two multiply-adds.
// One row of out = h Wᵀ + b for rows r .. r+R-1, with R named accumulators (each weight row
// loaded feeds R multiply-adds; an acc[R][F] array measured 1.7x slower: GCC keeps it in
// memory).
template <typename T, int FO, int R>
FASTRANK_INLINE void linear_rows(const T* __restrict h, const T* __restrict weight_t, const T* __restrict bias,
                                 T* __restrict out, int64_t r, int64_t fi) {
  T acc0[FO], acc1[FO], acc2[FO], acc3[FO];
  for (int o = 0; o < FO; ++o) {
    const T b = bias ? bias[o] : T(0);
    acc0[o] = b;
    if (R > 1) acc1[o] = b;
    if (R > 2) acc2[o] = b;
    if (R > 3) acc3[o] = b;
  }
  for (int64_t k = 0; k < fi; ++k) {
    const T* __restrict w = weight_t + k * FO;
    const T x0 = h[r * fi + k];
    const T x1 = R > 1 ? h[(r + 1) * fi + k] : T(0);
    const T x2 = R > 2 ? h[(r + 2) * fi + k] : T(0);
    const T x3 = R > 3 ? h[(r + 3) * fi + k] : T(0);
    for (int o = 0; o < FO; ++o) {
      acc0[o] += x0 * w[o];
      if (R > 1) acc1[o] += x1 * w[o];
      if (R > 2) acc2[o] += x2 * w[o];
      if (R > 3) acc3[o] += x3 * w[o];
    }
  }
  for (int o = 0; o < FO; ++o) {
    out[r * FO + o] = acc0[o];
    if (R > 1) out[(r + 1) * FO + o] = acc1[o];
    if (R > 2) out[(r + 2) * FO + o] = acc2[o];
    if (R > 3) out[(r + 3) * FO + o] = acc3[o];
  }
}

// Output widths known at compile time let output rows live in vector registers across the
// whole k loop (instead of a load and a store per multiply-add). Four float rows at a time
// (16 512-bit accumulators at width 64), two double rows (the same register count).
template <typename T, int FO>
FASTRANK_INLINE void linear_fixed(const T* __restrict h, const T* __restrict weight_t, const T* __restrict bias,
                                  T* __restrict out, int64_t n, int64_t fi) {
  constexpr int kRows = sizeof(T) == 4 && FO <= 64 ? 4 : 2;
  int64_t i = 0;
  for (; i + kRows <= n; i += kRows) linear_rows<T, FO, kRows>(h, weight_t, bias, out, i, fi);
  for (; i + 2 <= n; i += 2) linear_rows<T, FO, 2>(h, weight_t, bias, out, i, fi);
  if (i < n) linear_rows<T, FO, 1>(h, weight_t, bias, out, i, fi);
}

template <typename T>
FASTRANK_INLINE void linear(const T* __restrict h, const T* __restrict weight_t, const T* __restrict bias,
                            T* __restrict out, int64_t n, int64_t fi, int64_t fo) {
  if (fo == 32) return linear_fixed<T, 32>(h, weight_t, bias, out, n, fi);
  if (fo == 64) return linear_fixed<T, 64>(h, weight_t, bias, out, n, fi);
  if (fo == 128) return linear_fixed<T, 128>(h, weight_t, bias, out, n, fi);
  for (int64_t i = 0; i < n; ++i) {
    T* __restrict row = out + i * fo;
    for (int64_t o = 0; o < fo; ++o) row[o] = bias ? bias[o] : T(0);
    for (int64_t k = 0; k < fi; ++k) {
      const T x = h[i * fi + k];
      const T* __restrict w = weight_t + k * fo;
      for (int64_t o = 0; o < fo; ++o) row[o] += x * w[o];
    }
  }
}

// acc (fa × fb) += aᵀ b for a (n × fa), b (n × fb): a weight gradient. Row j of acc stays in
// registers over the n rows (n is a graph's node count: small).
template <typename T, int FB>
FASTRANK_INLINE void outer_fixed(const T* __restrict a, const T* __restrict b, T* __restrict acc, int64_t n,
                                 int64_t fa) {
  for (int64_t j = 0; j < fa; ++j) {
    T row[FB];
    for (int c = 0; c < FB; ++c) row[c] = acc[j * FB + c];
    for (int64_t i = 0; i < n; ++i) {
      const T x = a[i * fa + j];
      const T* __restrict src = b + i * FB;
      for (int c = 0; c < FB; ++c) row[c] += x * src[c];
    }
    for (int c = 0; c < FB; ++c) acc[j * FB + c] = row[c];
  }
}

template <typename T>
FASTRANK_INLINE void outer(const T* __restrict a, const T* __restrict b, T* __restrict acc, int64_t n, int64_t fa,
                           int64_t fb) {
  if (fb == 32) return outer_fixed<T, 32>(a, b, acc, n, fa);
  if (fb == 64) return outer_fixed<T, 64>(a, b, acc, n, fa);
  if (fb == 128) return outer_fixed<T, 128>(a, b, acc, n, fa);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < fa; ++j) {
      const T x = a[i * fa + j];
      T* __restrict dst = acc + j * fb;
      const T* __restrict src = b + i * fb;
      for (int64_t c = 0; c < fb; ++c) dst[c] += x * src[c];
    }
}

template <typename T>
FASTRANK_INLINE void product_transposed(const T* m, const T* g, T* out, int64_t n, int64_t f) {
  product_any<T, true>(m, g, out, n, f, false);
}

}  // namespace

#define FASTRANK_GRAPH_ROWS_FOR(T)                                                                           \
  FASTRANK_MULTIVERSION(void, graph_product, (const T* m, const T* h, T* out, int64_t n, int64_t f, bool relu),  \
                        (m, h, out, n, f, relu), product_any<T, false>)                                        \
  FASTRANK_MULTIVERSION(void, graph_product_transposed, (const T* m, const T* g, T* out, int64_t n, int64_t f), \
                        (m, g, out, n, f), product_transposed<T>)                                        \
  FASTRANK_MULTIVERSION(void, graph_linear,                                                                    \
                        (const T* h, const T* weight_t, const T* bias, T* out, int64_t n, int64_t fi, int64_t fo), \
                        (h, weight_t, bias, out, n, fi, fo), linear<T>)                                        \
  FASTRANK_MULTIVERSION(void, graph_outer_accumulate,                                                          \
                        (const T* a, const T* b, T* acc, int64_t n, int64_t fa, int64_t fb), (a, b, acc, n, fa, fb), \
                        outer<T>)
FASTRANK_GRAPH_ROWS_FOR(float)
FASTRANK_GRAPH_ROWS_FOR(double)
#undef FASTRANK_GRAPH_ROWS_FOR

}  // namespace fastrank
