// Device algorithms of the graph ops: batched encoding of architecture codes and the
// fused directed-GCN propagation (forward and backward; see gcn_propagate.cpp for the maths).
#pragma once

#include "device_api.h"
#include "graph_layouts.h"

namespace fastrank {
namespace device {

// One thread per architecture writes its whole (small) graph, zeros included.
template <typename A, typename Exec>
int encode_graphs_run(const Exec& ex, const EncodeArgs& a, DeviceCall& call) {
  Carver c(call.workspace);
  if (c.measuring()) {
    call.workspace_bytes = 0;
    return kDeviceOk;
  }
  const GraphSpace space = a.space;
  const int64_t N = a.nodes, size = a.space_size;
  const int64_t* codes = a.codes;
  int64_t* ops = a.ops;
  A* adj = static_cast<A*>(a.adj);
  bool* mask = a.mask;
  int* status = call.status;
  ex.for_each(a.n, [=] FR_HD(int64_t b) {
    const int64_t code = codes[b];
    int64_t* o = ops + b * N;
    A* g = adj + b * N * N;
    bool* m = mask + b * N;
    for (int64_t i = 0; i < N * N; ++i) g[i] = A(0);
    for (int64_t i = 0; i < N; ++i) {
      o[i] = 0;
      m[i] = false;
    }
    if (code < 0 || code >= size) {
      raise_status(status, kBadCodes);
      return;
    }
    switch (space) {
      case GraphSpace::kNB201: edge_cell(code, 5, o, g, m); break;
      case GraphSpace::kTransNASMicro: edge_cell(code, 4, o, g, m); break;
      case GraphSpace::kNASBenchMacro: nasbench_macro(code, o, g, m); break;
      case GraphSpace::kTransNASMacro: {
        int digits[6];
        const int length = transnas_macro_network(code, digits);
        for (int i = 0; i < length; ++i) digits[i] -= 1;
        chain(digits, length, 6, o, g, m);
        break;
      }
    }
  });
  return ex.error();
}

// ½/(row sum of A + I) and ½/(column sum of A + I) of every node: the two normalisations
// of M = ½(D_f⁻¹(A + I) + D_b⁻¹(Aᵀ + I)), one thread per (graph, node), in the CPU's order.
template <typename T, typename Exec>
void gcn_degrees(const Exec& ex, const GcnArgs& a, T* f_scale, T* b_scale, int* status) {
  const int64_t n = a.nodes;
  const T* adj = static_cast<const T*>(a.adj);
  ex.for_each(a.batch * n, [=] FR_HD(int64_t bi) {
    const int64_t b = bi / n, i = bi % n;
    const T* g = adj + b * n * n;
    T out_deg = T(1), in_deg = T(1);
    bool ok = true;
    for (int64_t j = 0; j < n; ++j) {
      const T w = g[i * n + j];
      ok &= (w - w) == T(0) && w >= T(0);
      out_deg += w;
      in_deg += g[j * n + i];
    }
    if (!ok) raise_status(status, kBadAdjacency);
    f_scale[bi] = T(0.5) / out_deg;
    b_scale[bi] = T(0.5) / in_deg;
  });
}

// M[i][j] of graph b from A and the node scales.
template <typename T>
FR_HD inline T gcn_weight(const T* g, const T* f_scale, const T* b_scale, int64_t n, int64_t i, int64_t j) {
  T w = g[i * n + j] * f_scale[i] + g[j * n + i] * b_scale[i];
  if (i == j) w += f_scale[i] + b_scale[i];
  return w;
}

// Forward (out = act(M H)) or backward (dH = Mᵀ (dOut where the forward output was kept)),
// one thread per (graph, node, feature): consecutive threads take consecutive features, so
// the reads of H and dOut are coalesced.
template <typename T, typename Exec>
int gcn_run(const Exec& ex, const GcnArgs& a, DeviceCall& call, bool backward) {
  Carver c(call.workspace);
  T* f_scale = c.take<T>(a.batch * a.nodes);
  T* b_scale = c.take<T>(a.batch * a.nodes);
  FASTRANK_CARVE_OR_MEASURE(c, call)
  gcn_degrees<T>(ex, a, f_scale, b_scale, call.status);
  const int64_t n = a.nodes, f = a.features;
  const bool relu = a.relu;
  const T* adj = static_cast<const T*>(a.adj);
  int* status = call.status;
  if (!backward) {
    const T* h = static_cast<const T*>(a.h);
    T* out = static_cast<T*>(a.out);
    ex.for_each(a.batch * n * f, [=] FR_HD(int64_t idx) {
      const int64_t b = idx / (n * f), i = (idx / f) % n, k = idx % f;
      if (!((h[idx] - h[idx]) == T(0))) raise_status(status, kNonFiniteScores);
      const T* g = adj + b * n * n;
      const T* hb = h + b * n * f + k;
      T acc = T(0);
      for (int64_t j = 0; j < n; ++j) acc += gcn_weight(g, f_scale + b * n, b_scale + b * n, n, i, j) * hb[j * f];
      out[idx] = relu && !(acc > T(0)) ? T(0) : acc;
    });
    return ex.error();
  }
  const T* d_out = static_cast<const T*>(a.d_out);
  const T* out = static_cast<const T*>(a.out);
  T* d_h = static_cast<T*>(a.d_h);
  ex.for_each(a.batch * n * f, [=] FR_HD(int64_t idx) {
    const int64_t b = idx / (n * f), j = (idx / f) % n, k = idx % f;
    const T* g = adj + b * n * n;
    const int64_t base = b * n * f + k;
    T acc = T(0);
    for (int64_t i = 0; i < n; ++i) {
      const T kept = relu && !(out[base + i * f] > T(0)) ? T(0) : d_out[base + i * f];
      acc += gcn_weight(g, f_scale + b * n, b_scale + b * n, n, i, j) * kept;
    }
    d_h[idx] = acc;
  });
  return ex.error();
}

template <typename T, typename Exec>
int gcn_propagate_run(const Exec& ex, const GcnArgs& a, DeviceCall& call) {
  return gcn_run<T>(ex, a, call, false);
}

template <typename T, typename Exec>
int gcn_propagate_backward_run(const Exec& ex, const GcnArgs& a, DeviceCall& call) {
  return gcn_run<T>(ex, a, call, true);
}

}  // namespace device
}  // namespace fastrank
