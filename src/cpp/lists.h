// Shared building blocks of the per-list ranking kernels: status codes, list
// chunking over threads, score orders, target levels and the moment Fenwick tree.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels.h"
#include "parallel.h"

namespace fastrank {

template <typename T>
bool all_finite(const T* x, int64_t n) {
  // x - x is 0 for finite x and NaN for NaN or ±inf; one flag reduction over that compare
  // vectorises, where std::isfinite per element does not.
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) ok &= (x[i] - x[i]) == T(0);
  return ok;
}

inline int check_offsets(const int64_t* offsets, int64_t n_lists, int64_t n_items) {
  if (offsets[0] != 0 || offsets[n_lists] != n_items) return kBadOffsets;
  for (int64_t g = 0; g < n_lists; ++g)
    if (offsets[g + 1] < offsets[g]) return kBadOffsets;
  return kOk;
}

// Turns per-list pair sums (list_loss) and pair counts into the requested output and
// rescales the gradient (written as ∂Σ list_loss/∂s) to match it.
template <typename T>
void write_reduction(const ListArgs& a, const std::vector<double>& list_loss, const std::vector<double>& list_pairs) {
  T* out = static_cast<T*>(a.out);
  if (a.reduction == Reduction::kNone) {
    for (int64_t g = 0; g < a.n_lists; ++g) out[g] = T(list_loss[g]);
    return;
  }
  double total = 0;
  if (a.reduction == Reduction::kSum) {
    for (double l : list_loss) total += l;
    out[0] = T(total);
    return;
  }
  int64_t with_pairs = 0;
  for (double p : list_pairs) with_pairs += p > 0;
  T* grad = static_cast<T*>(a.grad);
  for (int64_t g = 0; g < a.n_lists; ++g) {
    if (!(list_pairs[g] > 0)) continue;
    const double scale = 1.0 / (list_pairs[g] * double(with_pairs));
    total += list_loss[g] * scale;
    for (int64_t i = a.offsets[g]; i < a.offsets[g + 1]; ++i) grad[i] = T(double(grad[i]) * scale);
  }
  out[0] = T(total);
}

// Runs a per-list kernel fn(g, loss_g, pairs_g) -> Status over every list (in parallel),
// then writes the reduction. `split_large`: lists of kSplitListMin items or more run one
// after another with their rows split across threads (O(n²)-type kernels).
template <typename T, typename Fn>
int run_lists(const ListArgs& a, double work, bool split_large, Fn&& fn);

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
  std::vector<float> f32[3];
  std::vector<double> f64[3];
  // Buffer i in the compute precision T of a kernel.
  template <typename T>
  std::vector<T>& typed(int i) {
    if constexpr (std::is_same_v<T, float>) return f32[i]; else return f64[i];
  }
};

inline ListScratch& thread_scratch() {
  thread_local ListScratch scratch;
  return scratch;
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

template <typename T, typename Fn>
int run_lists(const ListArgs& a, double work, bool split_large, Fn&& fn) {
  if (int bad = check_offsets(a.offsets, a.n_lists, a.n_items)) return bad;
  std::vector<double> list_loss(a.n_lists, 0.0), list_pairs(a.n_lists, 0.0);
  auto one = [&](int64_t g) { return fn(g, list_loss[g], list_pairs[g]); };
  const int64_t* off = a.offsets;
  int status = list_status_parallel(off, a.n_lists, work, [&](int64_t g) -> int {
    return split_large && off[g + 1] - off[g] >= kSplitListMin ? kOk : one(g);
  });
  if (split_large)
    for (int64_t g = 0; g < a.n_lists; ++g)
      if (off[g + 1] - off[g] >= kSplitListMin) status |= one(g);
  if (status == kOk) write_reduction<T>(a, list_loss, list_pairs);
  return status;
}

}  // namespace fastrank
