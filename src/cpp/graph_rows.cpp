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

}  // namespace

#define FASTRANK_GRAPH_ROWS_FOR(T)                                                                          \
  FASTRANK_VECTOR_CLONES void graph_product(const T* m, const T* h, T* out, int64_t n, int64_t f, bool relu) { \
    product<T>(m, h, out, n, f, relu);                                                                      \
  }                                                                                                         \
  FASTRANK_VECTOR_CLONES void graph_product_transposed(const T* m, const T* g, T* out, int64_t n, int64_t f) { \
    product_transposed<T>(m, g, out, n, f);                                                                 \
  }
FASTRANK_GRAPH_ROWS_FOR(float)
FASTRANK_GRAPH_ROWS_FOR(double)
#undef FASTRANK_GRAPH_ROWS_FOR

}  // namespace fastrank
