// Fused directed GCN propagation for batches of small DAGs (NPENAS / NASLib style):
//   out = act(M H),  M = ½·(D_f⁻¹(A + I) + D_b⁻¹(Aᵀ + I)),
// D_f, D_b the row sums of A + I and Aᵀ + I. M is built per graph from A on the fly
// (N <= kMaxGraphNodes), so neither direction's normalised matrix is ever stored.
// Backward: dH = Mᵀ (dOut ⊙ act'(out)).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <vector>

#include "graph_rows.h"
#include "kernels.h"
#include "lists.h"
#include "parallel.h"

namespace fastrank {
namespace {

template <typename T>
int forward(const GcnArgs& g) {
  const T* h = static_cast<const T*>(g.h);
  const T* a = static_cast<const T*>(g.adj);
  T* out = static_cast<T*>(g.out);
  const int64_t n = g.nodes, f = g.features;
  std::atomic<int> status{kOk};
  for_graph_blocks(g.batch, n * n * f, [&](int64_t b) {
    T m[kMaxGraphNodes * kMaxGraphNodes];
    if (!propagation_matrix(a + b * n * n, n, m)) status |= kBadAdjacency;
    const T* __restrict hb = h + b * n * f;
    if (!all_finite(hb, n * f)) status |= kNonFiniteScores;
    graph_product(m, hb, out + b * n * f, n, f, g.relu);
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
  for_graph_blocks(g.batch, n * n * f, [&](int64_t b) {
    T m[kMaxGraphNodes * kMaxGraphNodes];
    propagation_matrix(a + b * n * n, n, m);
    // G = dOut masked by the ReLU, once per graph, then dH = Mᵀ G row by row.
    thread_local std::vector<T> masked;
    const T* __restrict gb = d_out + b * n * f;
    if (g.relu) {
      masked.resize(size_t(n * f));
      const T* __restrict ob = out + b * n * f;
      relu_mask(gb, ob, masked.data(), n * f);
      gb = masked.data();
    }
    graph_product_transposed(m, gb, d_h + b * n * f, n, f);
  });
  return kOk;
}

}  // namespace

int64_t gcn_max_nodes() { return kMaxGraphNodes; }

int gcn_propagate_cpu(const GcnArgs& args) {
  if (args.nodes > kMaxGraphNodes) return kBadShape;
  return args.dtype == DType::kFloat64 ? forward<double>(args) : forward<float>(args);
}

int gcn_propagate_backward_cpu(const GcnArgs& args) {
  if (args.nodes > kMaxGraphNodes) return kBadShape;
  return args.dtype == DType::kFloat64 ? backward<double>(args) : backward<float>(args);
}

}  // namespace fastrank
