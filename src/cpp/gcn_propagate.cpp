// Fused directed GCN propagation for batches of small DAGs (NPENAS / NASLib style):
//   out = act(M H),  M = ½·(D_f⁻¹(A + I) + D_b⁻¹(Aᵀ + I)),
// D_f, D_b the row sums of A + I and Aᵀ + I. M is built per graph from A on the fly
// (N <= kMaxNodes), so neither direction's normalised matrix is ever stored.
// Backward: dH = Mᵀ (dOut ⊙ act'(out)).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels.h"
#include "parallel.h"

namespace fastrank {
namespace {

constexpr int64_t kMaxNodes = 64;

// Builds M; returns false if A holds a negative or non-finite weight.
template <typename T>
bool build_m(const T* a, int64_t n, T* m) {
  T out_deg[kMaxNodes], in_deg[kMaxNodes];
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) out_deg[i] = in_deg[i] = T(1);  // the self loop
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const T w = a[i * n + j];
      ok &= std::isfinite(w) && w >= T(0);
      out_deg[i] += w;
      in_deg[j] += w;
    }
  for (int64_t i = 0; i < n; ++i) {
    const T f = T(0.5) / out_deg[i], b = T(0.5) / in_deg[i];
    for (int64_t j = 0; j < n; ++j) m[i * n + j] = a[i * n + j] * f + a[j * n + i] * b;
    m[i * n + i] += f + b;
  }
  return ok;
}

template <typename T>
int forward(const GcnArgs& g) {
  const T* h = static_cast<const T*>(g.h);
  const T* a = static_cast<const T*>(g.adj);
  T* out = static_cast<T*>(g.out);
  const int64_t n = g.nodes, f = g.features;
  std::atomic<int> status{kOk};
  parallel_tasks(g.batch, double(g.batch) * double(n * n * f), [&](int64_t b, int) {
    T m[kMaxNodes * kMaxNodes];
    if (!build_m(a + b * n * n, n, m)) status |= kBadAdjacency;
    const T* hb = h + b * n * f;
    bool finite = true;
    for (int64_t k = 0; k < n * f; ++k) finite &= std::isfinite(hb[k]);
    if (!finite) status |= kNonFiniteScores;
    T* ob = out + b * n * f;
    for (int64_t i = 0; i < n; ++i) {
      T* row = ob + i * f;
      std::fill(row, row + f, T(0));
      for (int64_t j = 0; j < n; ++j) {
        const T w = m[i * n + j];
        if (w == T(0)) continue;  // sparse DAGs: most of M is zero
        const T* src = hb + j * f;
        for (int64_t c = 0; c < f; ++c) row[c] += w * src[c];
      }
      if (g.relu)
        for (int64_t c = 0; c < f; ++c) row[c] = row[c] > T(0) ? row[c] : T(0);
    }
  });
  return status.load();
}

template <typename T>
int backward(const GcnArgs& g) {
  const T* d_out = static_cast<const T*>(g.d_out);
  const T* a = static_cast<const T*>(g.adj);
  const T* out = static_cast<const T*>(g.out);
  T* d_h = static_cast<T*>(g.d_h);
  const int64_t n = g.nodes, f = g.features;
  parallel_tasks(g.batch, double(g.batch) * double(n * n * f), [&](int64_t b, int) {
    T m[kMaxNodes * kMaxNodes];
    build_m(a + b * n * n, n, m);
    const T* gb = d_out + b * n * f;
    const T* ob = out + b * n * f;
    T* db = d_h + b * n * f;
    std::fill(db, db + n * f, T(0));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const T w = m[i * n + j];  // dH[j] += M[i, j] · G[i], G = dOut masked by the ReLU
        if (w == T(0)) continue;
        const T* src = gb + i * f;
        const T* active = ob + i * f;
        T* dst = db + j * f;
        if (g.relu) {
          for (int64_t c = 0; c < f; ++c) dst[c] += active[c] > T(0) ? w * src[c] : T(0);
        } else {
          for (int64_t c = 0; c < f; ++c) dst[c] += w * src[c];
        }
      }
  });
  return kOk;
}

}  // namespace

int64_t gcn_max_nodes() { return kMaxNodes; }

int gcn_propagate_cpu(const GcnArgs& args) {
  if (args.nodes > kMaxNodes) return kBadShape;
  return args.dtype == DType::kFloat64 ? forward<double>(args) : forward<float>(args);
}

int gcn_propagate_backward_cpu(const GcnArgs& args) {
  if (args.nodes > kMaxNodes) return kBadShape;
  return args.dtype == DType::kFloat64 ? backward<double>(args) : backward<float>(args);
}

}  // namespace fastrank
