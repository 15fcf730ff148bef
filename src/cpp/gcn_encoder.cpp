// Inference of a whole GCNEncoder per graph in one native call: op-table gather, then
// layers of (linear, directed GCN propagation, ReLU), then masked pooling. Each graph's
// activations stay in a thread's buffers (N×F), so nothing of size batch×N×F is written.
#include <algorithm>
#include <atomic>
#include <vector>

#include "graph_rows.h"
#include "kernels.h"
#include "lists.h"
#include "cpu_targets.h"

namespace fastrank {
namespace {

template <typename T>
int encode(const GcnEncoderArgs& g) {
  const T* table = static_cast<const T*>(g.table);
  const T* adj = static_cast<const T*>(g.adj);
  const T* weight_t = static_cast<const T*>(g.weight_t);
  const T* bias = static_cast<const T*>(g.bias);
  T* out = static_cast<T*>(g.out);
  const int64_t n = g.nodes, f = g.features, layers = g.layers;
  std::atomic<int> status{kOk};
  for_graph_blocks(g.batch, n * f * (f * layers + n), [&](int64_t b) {
    thread_local std::vector<T> h, z;  // one graph's activations, reused across graphs
    h.resize(size_t(n * f));
    z.resize(size_t(n * f));
    T m[kMaxGraphNodes * kMaxGraphNodes];
    if (!propagation_matrix(adj + b * n * n, n, m)) status |= kBadAdjacency;
    const T* last = encoder_layers(m, table, g.table_rows, g.ops + b * n, n, f, weight_t, bias, layers, z.data(),
                                   [&](int64_t) { return h.data(); });
    if (last == nullptr) {
      status |= kBadCodes;
      return;
    }
    masked_pool(last, g.mask + b * n, n, f, g.mean_pool, out + b * f);
  });
  return status.load();
}

}  // namespace

int gcn_encoder_forward_cpu(const GcnEncoderArgs& args) {
  if (args.nodes > kMaxGraphNodes) return kBadShape;
  return args.dtype == DType::kFloat64 ? encode<double>(args) : encode<float>(args);
}

}  // namespace fastrank
