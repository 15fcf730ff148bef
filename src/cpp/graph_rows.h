// Per-graph dense products of the GCN propagation (n <= 64 nodes, f features), vectorised
// over features and compiled for several x86 vector widths in graph_rows.cpp.
#pragma once

#include <algorithm>
#include <cstdint>

#include "parallel.h"

namespace fastrank {

// Graphs up to this many nodes; per-graph buffers live on the stack.
constexpr int64_t kMaxGraphNodes = 64;

// Runs fn(graph) over the batch in blocks of graphs: one task per graph would cost more in
// scheduling than a small graph's work.
template <typename Fn>
void for_graph_blocks(int64_t batch, int64_t work_per_graph, Fn&& fn, int linger_us = 0) {
  const int64_t block = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, work_per_graph));
  const int64_t blocks = (batch + block - 1) / block;
  parallel_tasks(blocks, double(batch) * double(work_per_graph), [&](int64_t t, int) {
    for (int64_t b = t * block, end = std::min(batch, b + block); b < end; ++b) fn(b);
  }, linger_us);
}

// M = ½(D_f⁻¹(A + I) + D_b⁻¹(Aᵀ + I)) with D_f, D_b the row sums of A + I and Aᵀ + I, for one
// graph (n <= kMaxGraphNodes); returns false if A holds a negative or non-finite weight.
template <typename T>
bool propagation_matrix(const T* a, int64_t n, T* m) {
  T out_deg[kMaxGraphNodes], in_deg[kMaxGraphNodes];
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) out_deg[i] = in_deg[i] = T(1);  // the self loop
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const T w = a[i * n + j];
      ok &= (w - w) == T(0) && w >= T(0);  // finite and non-negative
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

// out row i = table row ops[i] for one graph's n nodes; an id outside [0, rows) gives a zero
// row and a false return (the caller reports kBadCodes).
template <typename T>
bool gather_rows(const T* table, int64_t rows, const int64_t* ops, int64_t n, int64_t f, T* out) {
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t op = ops[i];
    if (op < 0 || op >= rows) {
      ok = false;
      std::fill(out + i * f, out + (i + 1) * f, T(0));
    } else {
      std::copy(table + op * f, table + (op + 1) * f, out + i * f);
    }
  }
  return ok;
}

// out[k] = g[k] where the forward output was positive (the ReLU's backward): a loop of its
// own so that it vectorises (random signs would defeat a branch).
template <typename T>
void relu_mask(const T* __restrict g, const T* __restrict forward_out, T* __restrict out, int64_t count) {
  for (int64_t k = 0; k < count; ++k) {
    const T value = g[k];  // loaded unconditionally, so the select needs no branch
    out[k] = forward_out[k] > T(0) ? value : T(0);
  }
}

// out (f) = sum, or mean, of the rows of h (n × f) whose mask is set (0 if none is).
template <typename T>
void masked_pool(const T* h, const bool* mask, int64_t n, int64_t f, bool mean, T* out) {
  std::fill(out, out + f, T(0));
  T count = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!mask[i]) continue;
    count += T(1);
    for (int64_t c = 0; c < f; ++c) out[c] += h[i * f + c];
  }
  if (mean && count > T(0))
    for (int64_t c = 0; c < f; ++c) out[c] /= count;
}

// out = M h, then ReLU if relu; M is n×n row-major, h and out n×f.
void graph_product(const float* m, const float* h, float* out, int64_t n, int64_t f, bool relu);
void graph_product(const double* m, const double* h, double* out, int64_t n, int64_t f, bool relu);

// out = Mᵀ g.
void graph_product_transposed(const float* m, const float* g, float* out, int64_t n, int64_t f);
void graph_product_transposed(const double* m, const double* g, double* out, int64_t n, int64_t f);

// out = h Wᵀ + b for n rows: h n×fi, weight_t = Wᵀ (fi×fo, row k = input feature k), b fo
// (nullptr: no bias).
void graph_linear(const float* h, const float* weight_t, const float* bias, float* out, int64_t n, int64_t fi,
                  int64_t fo);
void graph_linear(const double* h, const double* weight_t, const double* bias, double* out, int64_t n, int64_t fi,
                  int64_t fo);

// acc (fa×fb) += aᵀ b for a n×fa, b n×fb: the weight gradient of a linear layer.
void graph_outer_accumulate(const float* a, const float* b, float* acc, int64_t n, int64_t fa, int64_t fb);
void graph_outer_accumulate(const double* a, const double* b, double* acc, int64_t n, int64_t fa, int64_t fb);

// One graph through a GCN encoder's layers, as GCNEncoder computes them: h = relu(M ·
// table[ops]) (the first linear layer already applied to the op table), then for each of the
// `later` layers h = relu(M (h Wᵀ + b)), with weight_t / bias those layers' stacked Wᵀ (f×f)
// and b (f). Layer k's output (k = 0..later) is written to out(k), which may return the same
// buffer every time. z: n×f scratch. Returns the last output, or nullptr on an op id outside
// the table.
template <typename T, typename Out>
const T* encoder_layers(const T* m, const T* table, int64_t rows, const int64_t* ops, int64_t n, int64_t f,
                        const T* weight_t, const T* bias, int64_t later, T* z, Out&& out) {
  if (!gather_rows(table, rows, ops, n, f, z)) return nullptr;
  T* h = out(int64_t(0));
  graph_product(m, z, h, n, f, true);
  for (int64_t l = 0; l < later; ++l) {
    graph_linear(h, weight_t + l * f * f, bias + l * f, z, n, f, f);
    h = out(l + 1);
    graph_product(m, z, h, n, f, true);
  }
  return h;
}

}  // namespace fastrank
