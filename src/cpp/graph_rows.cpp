#include "graph_rows.h"

#include "vector_clones.h"

namespace fastrank {
namespace {

template <typename T>
FASTRANK_INLINE void product(const T* __restrict m, const T* __restrict h, T* __restrict out, int64_t n, int64_t f,
                             bool relu) {
  for (int64_t i = 0; i < n; ++i) {
    T* __restrict row = out + i * f;
    for (int64_t c = 0; c < f; ++c) row[c] = T(0);
    for (int64_t j = 0; j < n; ++j) {
      const T w = m[i * n + j];
      if (w == T(0)) continue;  // sparse DAGs: most of M is zero
      const T* __restrict src = h + j * f;
      for (int64_t c = 0; c < f; ++c) row[c] += w * src[c];
    }
    if (relu)
      for (int64_t c = 0; c < f; ++c) row[c] = row[c] > T(0) ? row[c] : T(0);
  }
}

template <typename T>
FASTRANK_INLINE void product_transposed(const T* __restrict m, const T* __restrict g, T* __restrict out, int64_t n,
                                        int64_t f) {
  for (int64_t j = 0; j < n; ++j) {
    T* __restrict dst = out + j * f;
    for (int64_t c = 0; c < f; ++c) dst[c] = T(0);
    for (int64_t i = 0; i < n; ++i) {
      const T w = m[i * n + j];  // (Mᵀ g)[j] = Σ_i M[i, j] g[i]
      if (w == T(0)) continue;
      const T* __restrict src = g + i * f;
      for (int64_t c = 0; c < f; ++c) dst[c] += w * src[c];
    }
  }
}

// Widths known at compile time let output rows live in vector registers across the whole k
// loop (instead of a load and a store per multiply-add).
// Two rows per pass, in two named accumulators (an acc[R][F] array measured 1.7x slower:
// GCC keeps it in memory), so each weight row loaded feeds two multiply-adds.
template <typename T, int F>
FASTRANK_INLINE void linear_fixed(const T* __restrict h, const T* __restrict weight_t, const T* __restrict bias,
                                  T* __restrict out, int64_t n) {
  int64_t i = 0;
  for (; i + 1 < n; i += 2) {
    T acc0[F], acc1[F];
    for (int o = 0; o < F; ++o) acc0[o] = acc1[o] = bias[o];
    for (int k = 0; k < F; ++k) {
      const T x0 = h[i * F + k], x1 = h[(i + 1) * F + k];
      const T* __restrict w = weight_t + k * F;
      for (int o = 0; o < F; ++o) {
        acc0[o] += x0 * w[o];
        acc1[o] += x1 * w[o];
      }
    }
    for (int o = 0; o < F; ++o) {
      out[i * F + o] = acc0[o];
      out[(i + 1) * F + o] = acc1[o];
    }
  }
  if (i < n) {
    T acc[F];
    for (int o = 0; o < F; ++o) acc[o] = bias[o];
    for (int k = 0; k < F; ++k) {
      const T x = h[i * F + k];
      const T* __restrict w = weight_t + k * F;
      for (int o = 0; o < F; ++o) acc[o] += x * w[o];
    }
    for (int o = 0; o < F; ++o) out[i * F + o] = acc[o];
  }
}

template <typename T>
FASTRANK_INLINE void linear(const T* __restrict h, const T* __restrict weight_t, const T* __restrict bias,
                            T* __restrict out, int64_t n, int64_t f) {
  if (f == 32) return linear_fixed<T, 32>(h, weight_t, bias, out, n);
  if (f == 64) return linear_fixed<T, 64>(h, weight_t, bias, out, n);
  if (f == 128) return linear_fixed<T, 128>(h, weight_t, bias, out, n);
  for (int64_t i = 0; i < n; ++i) {
    T* __restrict row = out + i * f;
    for (int64_t o = 0; o < f; ++o) row[o] = bias[o];
    for (int64_t k = 0; k < f; ++k) {
      const T x = h[i * f + k];
      const T* __restrict w = weight_t + k * f;
      for (int64_t o = 0; o < f; ++o) row[o] += x * w[o];
    }
  }
}

}  // namespace

#define FASTRANK_GRAPH_ROWS_FOR(T)                                                                          \
  FASTRANK_VECTOR_CLONES void graph_product(const T* m, const T* h, T* out, int64_t n, int64_t f, bool relu) { \
    product<T>(m, h, out, n, f, relu);                                                                      \
  }                                                                                                         \
  FASTRANK_VECTOR_CLONES void graph_product_transposed(const T* m, const T* g, T* out, int64_t n, int64_t f) { \
    product_transposed<T>(m, g, out, n, f);                                                                 \
  }                                                                                                         \
  FASTRANK_VECTOR_CLONES void graph_linear(const T* h, const T* weight_t, const T* bias, T* out, int64_t n,    \
                                           int64_t f) {                                                     \
    linear<T>(h, weight_t, bias, out, n, f);                                                                \
  }
FASTRANK_GRAPH_ROWS_FOR(float)
FASTRANK_GRAPH_ROWS_FOR(double)
#undef FASTRANK_GRAPH_ROWS_FOR

}  // namespace fastrank
