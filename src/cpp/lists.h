// Shared building blocks of the per-list ranking kernels: status codes, list
// chunking over threads, score orders, target levels and the moment Fenwick tree.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels.h"
#include "parallel.h"

namespace fastrank {

template <typename T>
bool all_finite(const T* x, int64_t n) {
  // One flag reduction instead of a branch per element keeps the scan vectorised.
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) ok &= std::isfinite(x[i]);
  return ok;
}

// Splits lists into tasks of roughly `items_per_task` items so that many small lists
// do not pay one task each, and calls fn(list) for every list.
template <typename Fn>
int list_status_parallel(const int64_t* offsets, int64_t n_lists, double work, Fn&& fn) {
  const int64_t n_items = n_lists > 0 ? offsets[n_lists] - offsets[0] : 0;
  const int64_t per_task = std::max<int64_t>(256, n_items / (8 * int64_t(num_threads())) + 1);
  std::vector<int64_t> task_begin;
  task_begin.reserve(n_lists / 4 + 2);
  for (int64_t g = 0; g < n_lists;) {
    task_begin.push_back(g);
    int64_t start = offsets[g];
    do { ++g; } while (g < n_lists && offsets[g] - start < per_task);
  }
  task_begin.push_back(n_lists);
  std::vector<int> status(task_begin.size() - 1, kOk);
  parallel_tasks(int64_t(task_begin.size()) - 1, work, [&](int64_t task, int) {
    for (int64_t g = task_begin[task]; g < task_begin[task + 1]; ++g) status[task] |= fn(g);
  });
  int all = kOk;
  for (int s : status) all |= s;
  return all;
}

// Positions of a list sorted by score descending, ties by index ascending: the rank
// order LambdaRank uses, and an order in which s and s + m are both non-increasing.
template <typename T>
void order_by_score_desc(const T* s, int64_t n, std::vector<std::pair<double, int64_t>>& keyed,
                         std::vector<int64_t>& order) {
  keyed.resize(n);
  for (int64_t i = 0; i < n; ++i) keyed[i] = {-double(s[i]), i};
  std::sort(keyed.begin(), keyed.end());
  order.resize(n);
  for (int64_t i = 0; i < n; ++i) order[i] = keyed[i].second;
}

// Compresses targets to levels 0..L-1 and returns L. Few distinct targets (the usual
// case: relevance grades) are found with a small sorted set in O(n·L); otherwise a sort.
template <typename T>
int64_t target_levels(const T* y, int64_t n, std::vector<double>& values, std::vector<int32_t>& level) {
  constexpr size_t kSmallSet = 16;
  values.clear();
  bool small = true;
  for (int64_t i = 0; i < n && small; ++i) {
    double v = y[i];
    auto it = std::lower_bound(values.begin(), values.end(), v);
    if (it != values.end() && *it == v) continue;
    if (values.size() == kSmallSet) small = false;
    else values.insert(it, v);
  }
  if (!small) {
    values.assign(y, y + n);
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
  }
  level.resize(n);
  for (int64_t i = 0; i < n; ++i)
    level[i] = int32_t(std::lower_bound(values.begin(), values.end(), double(y[i])) - values.begin());
  return int64_t(values.size());
}

// Number of pairs with different targets, from the level histogram.
inline double count_pairs(const std::vector<int32_t>& level, int64_t n_levels, std::vector<int64_t>& hist) {
  hist.assign(n_levels, 0);
  for (int32_t l : level) ++hist[l];
  double pairs = 0, below = 0;
  for (int64_t l = 0; l < n_levels; ++l) {
    pairs += double(hist[l]) * below;
    below += double(hist[l]);
  }
  return pairs;
}

// Fenwick tree over target levels; each node holds M running sums ("moments").
template <int M>
class MomentTree {
 public:
  void reset(int64_t n_levels) {
    size_ = n_levels;
    node_.assign(n_levels + 1, {});
    total_.fill(0.0);
  }
  void add(int64_t level, const std::array<double, M>& v) {
    for (int64_t i = level + 1; i <= size_; i += i & -i)
      for (int m = 0; m < M; ++m) node_[i][m] += v[m];
    for (int m = 0; m < M; ++m) total_[m] += v[m];
  }
  // Sums over levels strictly below `level`.
  std::array<double, M> below(int64_t level) const {
    std::array<double, M> out{};
    for (int64_t i = level; i > 0; i -= i & -i)
      for (int m = 0; m < M; ++m) out[m] += node_[i][m];
    return out;
  }
  // Sums over levels strictly above `level`.
  std::array<double, M> above(int64_t level) const {
    std::array<double, M> out = below(level + 1);
    for (int m = 0; m < M; ++m) out[m] = total_[m] - out[m];
    return out;
  }

 private:
  int64_t size_ = 0;
  std::vector<std::array<double, M>> node_;
  std::array<double, M> total_{};
};

// Reusable per-thread buffers so that many small lists allocate nothing.
struct ListScratch {
  std::vector<std::pair<double, int64_t>> keyed;
  std::vector<int64_t> order;
  std::vector<double> values;
  std::vector<int32_t> level;
  std::vector<int64_t> hist;
  std::vector<double> a, b, c, d, e;
};

inline ListScratch& thread_scratch() {
  thread_local ListScratch scratch;
  return scratch;
}

// Numerically stable log(1 + exp(-x)) and 1 / (1 + exp(x)) sharing one exp.
inline void softplus_neg_and_sigmoid_neg(double x, double& softplus, double& sigmoid) {
  double e = std::exp(-std::fabs(x));
  softplus = std::log1p(e) + (x < 0 ? -x : 0.0);
  sigmoid = x >= 0 ? e / (1.0 + e) : 1.0 / (1.0 + e);
}

}  // namespace fastrank

namespace fastrank {

// Lists of at least this many items run their O(n²)-type pair loop split across threads;
// smaller lists are spread over threads whole.
constexpr int64_t kSplitListMin = 512;

// Runs a pair loop of `n_rows` rows over a list of n items as kRowChunks chunks of equal
// estimated cost (row_cost(r) pairs in row r). Each chunk adds its gradient into a buffer
// of its own and the buffers are summed in chunk order, so the result does not depend
// on the number of threads or on scheduling. body(r0, r1, grad) returns the chunk's loss.
template <typename CostFn, typename Body>
double split_rows(int64_t n_rows, int64_t n, CostFn&& row_cost, Body&& body, std::vector<double>& grad) {
  constexpr int kRowChunks = 16;
  std::vector<double> cum(n_rows + 1, 0.0);
  for (int64_t r = 0; r < n_rows; ++r) cum[r + 1] = cum[r] + double(row_cost(r));
  std::array<int64_t, kRowChunks + 1> cut{};
  for (int c = 0; c <= kRowChunks; ++c) {
    const double target = cum[n_rows] * c / kRowChunks;
    cut[c] = std::lower_bound(cum.begin(), cum.end(), target) - cum.begin();
    cut[c] = std::min(cut[c], n_rows);
  }
  cut[kRowChunks] = n_rows;
  std::vector<std::vector<double>> part(kRowChunks);
  std::array<double, kRowChunks> loss{};
  parallel_tasks(kRowChunks, 20.0 * cum[n_rows], [&](int64_t c, int) {
    part[c].assign(n, 0.0);
    if (cut[c + 1] > cut[c]) loss[c] = body(cut[c], cut[c + 1], part[c].data());
  });
  grad.assign(n, 0.0);
  double total = 0;
  for (int c = 0; c < kRowChunks; ++c) {
    total += loss[c];
    for (int64_t i = 0; i < n; ++i) grad[i] += part[c][i];
  }
  return total;
}

// Runs fn(list) for every list: small lists in parallel with one another, then each
// large list on its own (its kernel splits its rows across threads).
template <typename Fn>
int lists_small_then_large(const int64_t* offsets, int64_t n_lists, double small_work, Fn&& fn) {
  int status = list_status_parallel(offsets, n_lists, small_work, [&](int64_t g) -> int {
    return offsets[g + 1] - offsets[g] < kSplitListMin ? fn(g) : kOk;
  });
  for (int64_t g = 0; g < n_lists; ++g)
    if (offsets[g + 1] - offsets[g] >= kSplitListMin) status |= fn(g);
  return status;
}

}  // namespace fastrank
