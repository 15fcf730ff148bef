// Training forward and backward of a whole GCN predictor (encoder + MLP head) in one native
// call each. At NAS batch sizes (tens of graphs of ~10 nodes) a training step written in torch
// ops is mostly per-op overhead; here each graph's layers run back to back in a thread's
// cache, and the weight gradients are summed per block of graphs.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "graph_rows.h"
#include "kernels.h"
#include "lists.h"
#include "parallel.h"

namespace fastrank {
namespace {

// A training step calls forward, then (after a small loss in torch) backward, then the
// optimizer, then the next forward: workers wait this long for the next call spinning, so
// that each call starts with them awake (a sleeping worker joined a 32-graph forward too late
// to help: 142 µs on one thread, 131 µs on two).
constexpr int kStepLingerUs = 300;

template <typename T>
struct Model {
  int64_t rows, f, h, layers, outs;
  const T* embed;
  std::vector<const T*> w, b;  // per layer, W in (out, in) layout
  const T *w1, *b1, *w2, *b2;

  explicit Model(const GcnPredictorArgs& g)
      : rows(g.table_rows), f(g.features), h(g.hidden), layers(g.layers), outs(g.outputs) {
    auto p = [&](int64_t k) { return static_cast<const T*>(g.params[k]); };
    embed = p(0);
    for (int64_t l = 0; l < layers; ++l) {
      w.push_back(p(1 + 2 * l));
      b.push_back(p(2 + 2 * l));
    }
    w1 = p(1 + 2 * layers);
    b1 = p(2 + 2 * layers);
    w2 = p(3 + 2 * layers);
    b2 = p(4 + 2 * layers);
  }
};

// dst (cols × rows) = srcᵀ for src (rows × cols).
template <typename T>
void transpose(const T* src, T* dst, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
}

template <typename T>
int forward(const GcnPredictorArgs& g) {
  const Model<T> model(g);
  const int64_t n = g.nodes, f = model.f, hid = model.h, layers = model.layers, batch = g.batch;
  // The forward multiplies by Wᵀ (vectorised over output features): transposed copies, once;
  // the later layers' biases stacked as encoder_layers takes them.
  std::vector<T> w_t(size_t(layers * f * f + f * hid)), table(size_t(model.rows * f));
  std::vector<T> later_bias(size_t((layers - 1) * f));
  for (int64_t l = 0; l < layers; ++l) {
    transpose(model.w[l], w_t.data() + l * f * f, f, f);
    if (l > 0) std::copy(model.b[l], model.b[l] + f, later_bias.data() + (l - 1) * f);
  }
  T* w1_t = w_t.data() + layers * f * f;
  transpose(model.w1, w1_t, hid, f);
  // linear(embed(ops)) = linear(embed.weight)[ops]: the first layer runs on the table.
  graph_linear(model.embed, w_t.data(), model.b[0], table.data(), model.rows, f, f);

  T* act = static_cast<T*>(g.activations);
  T* pooled = static_cast<T*>(g.pooled);
  T* hidden = static_cast<T*>(g.head_hidden);
  T* scores = static_cast<T*>(g.scores);
  const T* adj = static_cast<const T*>(g.adj);
  std::atomic<int> status{kOk};
  for_graph_blocks(batch, n * f * (f * layers + n) + f * hid, [&](int64_t b) {
    thread_local std::vector<T> z;
    z.resize(size_t(n * f));
    T m[kMaxGraphNodes * kMaxGraphNodes];
    if (!propagation_matrix(adj + b * n * n, n, m)) status |= kBadAdjacency;
    // every layer's output is kept: the backward reads them
    const T* last = encoder_layers(m, table.data(), model.rows, g.ops + b * n, n, f, w_t.data() + f * f,
                                   later_bias.data(), layers - 1, z.data(),
                                   [&](int64_t l) { return act + (l * batch + b) * n * f; });
    if (last == nullptr) {
      status |= kBadCodes;
      return;
    }
    T* p = pooled + b * f;
    masked_pool(last, g.mask + b * n, n, f, g.mean_pool, p);
    T* r = hidden + b * hid;
    graph_linear(p, w1_t, model.b1, r, 1, f, hid);
    for (int64_t j = 0; j < hid; ++j) r[j] = r[j] > T(0) ? r[j] : T(0);
    for (int64_t o = 0; o < model.outs; ++o) {
      const T* w2 = model.w2 + o * hid;
      T s = model.b2[o];
      for (int64_t j = 0; j < hid; ++j) s += w2[j] * r[j];
      scores[b * model.outs + o] = s;
    }
  }, kStepLingerUs);
  return status.load();
}

// Offsets of the gradient sums one block of graphs accumulates: the op table's gradient (the
// first layer and the embedding follow from it once per call), layers 1.. and the head.
struct GradLayout {
  int64_t table, w, b, w1, b1, w2, b2, size;
  GradLayout(int64_t rows, int64_t f, int64_t h, int64_t layers, int64_t outs) {
    const int64_t later = layers - 1;  // >= 0: a predictor has at least one layer
    table = 0;
    w = table + rows * f;
    b = w + later * f * f;
    w1 = b + later * f;
    b1 = w1 + h * f;
    w2 = b1 + h;
    b2 = w2 + outs * h;
    size = b2 + outs;
  }
};

template <typename T>
int backward(const GcnPredictorArgs& g) {
  const Model<T> model(g);
  const int64_t n = g.nodes, f = model.f, hid = model.h, layers = model.layers, batch = g.batch;
  const T* act = static_cast<const T*>(g.activations);
  const T* pooled = static_cast<const T*>(g.pooled);
  const T* hidden = static_cast<const T*>(g.head_hidden);
  const T* d_scores = static_cast<const T*>(g.d_scores);
  const T* adj = static_cast<const T*>(g.adj);
  const int64_t outs = model.outs;
  if (!all_finite(d_scores, batch * outs)) return kNonFiniteScores;
  const GradLayout lay(model.rows, f, hid, layers, outs);

  // Blocks depend on the batch only, and block sums are added in block order: the gradients
  // are the same bits whatever the thread count.
  const int64_t block = std::max<int64_t>(8, (batch + 63) / 64);
  const int64_t blocks = std::max<int64_t>(1, (batch + block - 1) / block);
  std::vector<T> sums(size_t(blocks * lay.size));
  // Layer by layer over a block's graphs, so that each weight gradient and each dz·W is one
  // product over the block's rows (8 graphs of 8 nodes: 64 rows) rather than one per graph:
  // a gradient row stays in registers over 64 rows instead of 8 (measured 25 -> 37 GFMA/s).
  parallel_tasks(blocks, double(batch) * double(n * f * (2 * f * layers + n) + 2 * f * hid), [&](int64_t t, int) {
    T* acc = sums.data() + t * lay.size;
    std::fill(acc, acc + lay.size, T(0));
    const int64_t first = t * block, count = std::min(batch, first + block) - first, rows = count * n;
    thread_local std::vector<T> scratch;
    scratch.resize(size_t(2 * rows * f + n * f + count * (f + hid + n * n)));
    T* dh = scratch.data();  // (rows, f): ∂loss/∂(this layer's output) for the block
    T* dz = dh + rows * f;   // (rows, f): ∂loss/∂(this layer's pre-propagation input)
    T* gate = dz + rows * f;
    T* dp = gate + n * f;    // (count, f): ∂loss/∂pooled
    T* dr = dp + count * f;  // (count, hid): ∂loss/∂(head's hidden layer, before ReLU)
    T* m = dr + count * hid; // (count, n, n): each graph's propagation matrix
    // The head over the block's graphs at once: one product each rather than one per graph.
    for (int64_t k = 0; k < count; ++k) {
      const int64_t b = first + k;
      const T* ds = d_scores + b * outs;
      const T* r = hidden + b * hid;
      T* drk = dr + k * hid;
      std::fill(drk, drk + hid, T(0));
      for (int64_t o = 0; o < outs; ++o) {
        const T* w2 = model.w2 + o * hid;
        T* dw2 = acc + lay.w2 + o * hid;
        for (int64_t j = 0; j < hid; ++j) {
          dw2[j] += ds[o] * r[j];
          drk[j] += ds[o] * w2[j];
        }
        acc[lay.b2 + o] += ds[o];
      }
      for (int64_t j = 0; j < hid; ++j) {
        drk[j] = r[j] > T(0) ? drk[j] : T(0);
        acc[lay.b1 + j] += drk[j];
      }
    }
    graph_outer_accumulate(dr, pooled + first * f, acc + lay.w1, count, hid, f);
    graph_linear(dr, model.w1, static_cast<const T*>(nullptr), dp, count, hid, f);
    for (int64_t k = 0; k < count; ++k) {
      const int64_t b = first + k;
      propagation_matrix(adj + b * n * n, n, m + k * n * n);
      T valid_nodes = 0;
      for (int64_t i = 0; i < n; ++i) valid_nodes += g.mask[b * n + i] ? T(1) : T(0);
      const T scale = g.mean_pool && valid_nodes > T(0) ? T(1) / valid_nodes : T(1);
      T* dhb = dh + k * n * f;
      for (int64_t i = 0; i < n; ++i) {
        const bool valid = g.mask[b * n + i];
        for (int64_t c = 0; c < f; ++c) dhb[i * f + c] = valid ? dp[k * f + c] * scale : T(0);
      }
    }
    for (int64_t l = layers - 1; l >= 0; --l) {
      const T* out = act + (l * batch + first) * n * f;
      for (int64_t k = 0; k < count; ++k) {
        relu_mask(dh + k * n * f, out + k * n * f, gate, n * f);
        graph_product_transposed(m + k * n * n, gate, dz + k * n * f, n, f);
      }
      if (l > 0) {
        const T* below = act + ((l - 1) * batch + first) * n * f;
        graph_outer_accumulate(dz, below, acc + lay.w + (l - 1) * f * f, rows, f, f);
        T* db = acc + lay.b + (l - 1) * f;
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t c = 0; c < f; ++c) db[c] += dz[i * f + c];
        graph_linear(dz, model.w[l], static_cast<const T*>(nullptr), dh, rows, f, f);
      } else {
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t op = g.ops[first * n + i];
          if (op < 0 || op >= model.rows) continue;  // reported by the forward
          T* row = acc + lay.table + op * f;
          for (int64_t c = 0; c < f; ++c) row[c] += dz[i * f + c];
        }
      }
    }
  }, kStepLingerUs);

  // Block sums into block 0, in block order, split over the elements.
  const int64_t chunk = 4096, chunks = (lay.size + chunk - 1) / chunk;
  if (blocks > 1)
    parallel_tasks(chunks, double(blocks) * double(lay.size), [&](int64_t c, int) {
      T* total = sums.data();
      for (int64_t k = c * chunk, end = std::min(lay.size, k + chunk); k < end; ++k)
        for (int64_t t = 1; t < blocks; ++t) total[k] += sums[size_t(t * lay.size + k)];
    }, kStepLingerUs);
  const T* total = sums.data();

  auto grad = [&](int64_t k) { return static_cast<T*>(g.grads[k]); };
  {
    // table = embed W0ᵀ + b0, so d_embed = d_table W0, dW0 = d_tableᵀ embed, db0 = Σ rows.
    const T* d_table = total + lay.table;
    graph_linear(d_table, model.w[0], static_cast<const T*>(nullptr), grad(0), model.rows, f, f);
    std::fill(grad(1), grad(1) + f * f, T(0));
    graph_outer_accumulate(d_table, model.embed, grad(1), model.rows, f, f);
    std::fill(grad(2), grad(2) + f, T(0));
    for (int64_t r = 0; r < model.rows; ++r)
      for (int64_t c = 0; c < f; ++c) grad(2)[c] += d_table[r * f + c];
  }
  for (int64_t l = 1; l < layers; ++l) {
    std::memcpy(grad(1 + 2 * l), total + lay.w + (l - 1) * f * f, sizeof(T) * size_t(f * f));
    std::memcpy(grad(2 + 2 * l), total + lay.b + (l - 1) * f, sizeof(T) * size_t(f));
  }
  std::memcpy(grad(1 + 2 * layers), total + lay.w1, sizeof(T) * size_t(hid * f));
  std::memcpy(grad(2 + 2 * layers), total + lay.b1, sizeof(T) * size_t(hid));
  std::memcpy(grad(3 + 2 * layers), total + lay.w2, sizeof(T) * size_t(outs * hid));
  std::memcpy(grad(4 + 2 * layers), total + lay.b2, sizeof(T) * size_t(outs));
  return kOk;
}

bool valid_shape(const GcnPredictorArgs& g) {
  return g.nodes <= kMaxGraphNodes && g.layers >= 1 && g.batch >= 0 && g.features >= 1 && g.hidden >= 1 &&
         g.table_rows >= 1 && g.outputs >= 1;
}

}  // namespace

int gcn_predictor_forward_cpu(const GcnPredictorArgs& args) {
  if (!valid_shape(args)) return kBadShape;
  return args.dtype == DType::kFloat64 ? forward<double>(args) : forward<float>(args);
}

int gcn_predictor_backward_cpu(const GcnPredictorArgs& args) {
  if (!valid_shape(args)) return kBadShape;
  return args.dtype == DType::kFloat64 ? backward<double>(args) : backward<float>(args);
}

}  // namespace fastrank
