// Device algorithms of the list ops (pairwise hinge / squared hinge, pairwise logistic,
// LambdaRank), one template over the executor (device_common.h).
//
// Each item is one thread: it walks the partners of its own list once and writes its
// whole gradient (as the better and as the worse member of its pairs), its loss as the
// better member and its number of lower partners, so no two threads write one place and
// no atomics are needed. That is exact for every op and fastest for the many short lists
// of a training batch (10^4 lists of 32 items: each thread reads 32 cached partners);
// its O(n²) work per list bounds it to lists of up to ~10^5 items. Sums are in double.
// Per-list sums and the reduction follow (segmented sums), as in lists.h on the CPU.
#pragma once

#include "device_common.h"

namespace fastrank {
namespace device {

FR_HD inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  const double e = exp(x);
  return e / (1.0 + e);
}

FR_HD inline double softplus(double x) { return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x))); }

// Scratch every list op leaves its per-item results in before the reduction.
struct ListWork {
  int64_t* offsets = nullptr;  // the caller's offsets made safe to index (safe_offsets)
  int64_t* clamped = nullptr;
  double* item_loss = nullptr;
  double* item_pairs = nullptr;
  double* item_grad = nullptr;
  double* list_loss = nullptr;
  double* list_pairs = nullptr;
  double* list_mean = nullptr;
  double* list_has_pairs = nullptr;
  double* totals = nullptr;  // [Σ list means, lists with pairs]
  void* temp = nullptr;
  size_t temp_bytes = 0;
};

template <typename Exec>
ListWork carve_list_work(const Exec& ex, Carver& c, int64_t n_items, int64_t n_lists) {
  ListWork w;
  w.offsets = c.take<int64_t>(n_lists + 1);
  w.clamped = c.take<int64_t>(n_lists + 1);
  w.item_loss = c.take<double>(n_items);
  w.item_pairs = c.take<double>(n_items);
  w.item_grad = c.take<double>(n_items);
  w.list_loss = c.take<double>(n_lists);
  w.list_pairs = c.take<double>(n_lists);
  w.list_mean = c.take<double>(n_lists);
  w.list_has_pairs = c.take<double>(n_lists);
  w.totals = c.take<double>(2);
  w.temp_bytes = std::max(ex.sum_temp_bytes(n_items, n_lists), ex.running_max_temp_bytes(n_lists + 1));
  w.temp = c.bytes(w.temp_bytes);
  return w;
}

// The kernels index with the offsets, so they are checked here, on the device, instead of
// by the caller (which would have to wait for the GPU to read them): a bad set is reported
// as kBadOffsets, and every kernel reads w.offsets, the caller's clamped into [0, n] and made
// non-decreasing from 0 to n, so that nothing is read or written out of bounds before the
// caller sees the report.
template <typename Exec>
void safe_offsets(const Exec& ex, const ListArgs& a, const ListWork& w, int* status) {
  const int64_t* off = a.offsets;
  const int64_t n_lists = a.n_lists, n = a.n_items;
  int64_t* clamped = w.clamped;
  ex.for_each(n_lists + 1, [=] FR_HD(int64_t g) {
    const int64_t o = off[g];
    const bool bad = o < 0 || o > n || (g == 0 && o != 0) || (g == n_lists && o != n) ||
                     (g < n_lists && off[g + 1] < o);
    if (bad) raise_status(status, kBadOffsets);
    clamped[g] = g == 0 ? 0 : g == n_lists ? n : (o < 0 ? 0 : (o > n ? n : o));
  });
  ex.running_max(clamped, w.offsets, n_lists + 1, w.temp, w.temp_bytes);
}

// Per-list sums → the reduced output, and the gradient rescaled to match (lists.h's
// write_reduction on the CPU).
template <typename T, typename Exec>
void finish_lists(const Exec& ex, const ListArgs& a, const ListWork& w) {
  const int64_t n_lists = a.n_lists, n_items = a.n_items;
  const int64_t* off = w.offsets;
  T* out = static_cast<T*>(a.out);
  T* grad = static_cast<T*>(a.grad);
  const double* item_grad = w.item_grad;
  const double* list_loss = w.list_loss;
  const double* list_pairs = w.list_pairs;
  double* list_mean = w.list_mean;
  double* has_pairs = w.list_has_pairs;
  double* totals = w.totals;
  ex.segmented_sum(w.item_loss, off, n_lists, w.list_loss, w.temp, w.temp_bytes);
  ex.segmented_sum(w.item_pairs, off, n_lists, w.list_pairs, w.temp, w.temp_bytes);
  if (a.reduction == Reduction::kNone) {
    ex.for_each(n_lists, [=] FR_HD(int64_t g) { out[g] = T(list_loss[g]); });
    ex.for_each(n_items, [=] FR_HD(int64_t i) { grad[i] = T(item_grad[i]); });
    return;
  }
  if (a.reduction == Reduction::kSum) {
    ex.sum(list_loss, n_lists, totals, w.temp, w.temp_bytes);
    ex.for_each(1, [=] FR_HD(int64_t) { out[0] = T(totals[0]); });
    ex.for_each(n_items, [=] FR_HD(int64_t i) { grad[i] = T(item_grad[i]); });
    return;
  }
  ex.for_each(n_lists, [=] FR_HD(int64_t g) {
    const bool any = list_pairs[g] > 0;
    list_mean[g] = any ? list_loss[g] / list_pairs[g] : 0.0;
    has_pairs[g] = any ? 1.0 : 0.0;
  });
  ex.sum(list_mean, n_lists, totals, w.temp, w.temp_bytes);
  ex.sum(has_pairs, n_lists, totals + 1, w.temp, w.temp_bytes);
  ex.for_each(1, [=] FR_HD(int64_t) { out[0] = T(totals[1] > 0 ? totals[0] / totals[1] : 0.0); });
  ex.for_each(n_items, [=] FR_HD(int64_t i) {
    const double pairs = list_pairs[list_of(off, n_lists, i)];
    grad[i] = T(pairs > 0 ? item_grad[i] / (pairs * totals[1]) : item_grad[i]);
  });
}

// The checks of the long-list algorithms, which read the items in sorts before any pair
// walk: finite scores and targets, and no list longer than the `longest` they were given.
template <typename T, typename Exec>
void check_long_lists(const Exec& ex, const ListArgs& a, const ListWork& w, int64_t longest, int* status) {
  const T* s = static_cast<const T*>(a.scores);
  const T* y = static_cast<const T*>(a.targets);
  const int64_t* off = w.offsets;
  ex.for_each(a.n_items, [=] FR_HD(int64_t i) {
    if (!is_finite(double(s[i]))) raise_status(status, kNonFiniteScores);
    if (!is_finite(double(y[i]))) raise_status(status, kNonFiniteTargets);
  });
  ex.for_each(a.n_lists, [=] FR_HD(int64_t g) {
    if (off[g + 1] - off[g] > longest) raise_status(status, kBadOffsets);
  });
}

// Sums one item gathers over the partners of its list.
struct ItemSums {
  double loss = 0;   // of the pairs where the item is the better member
  double grad = 0;   // ∂/∂s_item of all its pairs
  double pairs = 0;  // its lower partners (pairs with a different target, counted once)
};

// The item-parallel frame of every list op: for each item i (list g), checks its score and
// target, calls visit(g, i, j, s_i, y_i, s_j, y_j, sums) for every item j of its list, and
// stores the sums in w.
template <typename T, typename Exec, typename Visit>
void for_item_pairs(const Exec& ex, const ListArgs& a, int* status, const ListWork& w, Visit visit) {
  const T* s = static_cast<const T*>(a.scores);
  const T* y = static_cast<const T*>(a.targets);
  const int64_t* off = w.offsets;
  const int64_t n_lists = a.n_lists;
  double* item_loss = w.item_loss;
  double* item_pairs = w.item_pairs;
  double* item_grad = w.item_grad;
  ex.for_each(a.n_items, [=] FR_HD(int64_t i) {
    const int64_t g = list_of(off, n_lists, i);
    const double si = double(s[i]), yi = double(y[i]);
    if (!is_finite(si)) raise_status(status, kNonFiniteScores);
    if (!is_finite(yi)) raise_status(status, kNonFiniteTargets);
    ItemSums sums;
    for (int64_t j = off[g]; j < off[g + 1]; ++j) visit(g, i, j, si, yi, double(s[j]), double(y[j]), sums);
    item_loss[i] = sums.loss;
    item_pairs[i] = sums.pairs;
    item_grad[i] = sums.grad;
  });
}

template <typename T, typename Exec>
int pairwise_hinge_run(const Exec& ex, const PairwiseHingeArgs& a, DeviceCall& call) {
  Carver c(call.workspace);
  const ListWork w = carve_list_work(ex, c, a.n_items, a.n_lists);
  const bool ranked = a.rank_weight != RankWeight::kNone;
  double* omega = ranked ? c.take<double>(a.n_items) : nullptr;
  FASTRANK_CARVE_OR_MEASURE(c, call)
  safe_offsets(ex, a, w, call.status);
  const T* s = static_cast<const T*>(a.scores);
  const T* y = static_cast<const T*>(a.targets);
  const int64_t* off = w.offsets;
  const int64_t n_lists = a.n_lists;
  const double m = a.margin;
  const bool squared = a.squared, weighted = a.weighted, warp_mean = a.rank_weight == RankWeight::kWarp;
  int* status = call.status;
  if (ranked) {
    // WARP weight of each item as the better member: L(v)/v or L(v), v = its active lower
    // partners (docs/algorithms.md §4), summed in the CPU kernel's order.
    ex.for_each(a.n_items, [=] FR_HD(int64_t i) {
      const int64_t g = list_of(off, n_lists, i);
      const double si = double(s[i]), yi = double(y[i]);
      int64_t v = 0;
      for (int64_t j = off[g]; j < off[g + 1]; ++j) v += double(y[j]) < yi && double(s[j]) + m > si;
      double harmonic = 0;
      for (int64_t k = 1; k <= v; ++k) harmonic += 1.0 / double(k);
      omega[i] = v == 0 ? 0.0 : (warp_mean ? harmonic / double(v) : harmonic);
    });
  }
  // The key s + m is formed the same way for every comparison (and as the CPU kernels form
  // it), so both members of a pair agree on whether it is active.
  for_item_pairs<T>(ex, a, status, w, [=] FR_HD(int64_t, int64_t i, int64_t j, double si, double yi, double sj,
                                                double yj, ItemSums& sums) {
    if (yj < yi) {  // i is the better member; active when key_j > s_i
      sums.pairs += 1;
      if (sj + m > si) {
        const double z = (sj + m) - si;
        const double wt = (weighted ? yi - yj : 1.0) * (omega != nullptr ? omega[i] : 1.0);
        sums.loss += wt * (squared ? z * z : z);
        sums.grad -= wt * (squared ? 2 * z : 1.0);
      }
    } else if (yj > yi && si + m > sj) {  // i is the worse member of an active pair
      const double z = (si + m) - sj;
      const double wt = (weighted ? yj - yi : 1.0) * (omega != nullptr ? omega[j] : 1.0);
      sums.grad += wt * (squared ? 2 * z : 1.0);
    }
  });
  finish_lists<T>(ex, a, w);
  return ex.error();
}

template <typename T, typename Exec>
int pairwise_logistic_run(const Exec& ex, const PairwiseLogisticArgs& a, DeviceCall& call) {
  Carver c(call.workspace);
  const ListWork w = carve_list_work(ex, c, a.n_items, a.n_lists);
  FASTRANK_CARVE_OR_MEASURE(c, call)
  safe_offsets(ex, a, w, call.status);
  const double sigma = a.sigma;
  for_item_pairs<T>(ex, a, call.status, w, [=] FR_HD(int64_t, int64_t, int64_t, double si, double yi, double sj,
                                                     double yj, ItemSums& sums) {
    if (yj < yi) {
      const double x = -sigma * (si - sj);
      sums.pairs += 1;
      sums.loss += softplus(x);
      sums.grad -= sigma * sigmoid(x);
    } else if (yj > yi) {
      sums.grad += sigma * sigmoid(-sigma * (sj - si));
    }
  });
  finish_lists<T>(ex, a, w);
  return ex.error();
}

// The terms of one LambdaRank pair (i, j) seen from item i, given every item's gain and
// rank discount and each list's IDCG@k (docs/algorithms.md §2).
struct LambdaPairTerms {
  const double* gain = nullptr;
  const double* disc = nullptr;
  const double* idcg = nullptr;
  int pair_loss = 0;
  double sigma = 1.0, margin = 1.0;

  FR_HD void operator()(int64_t g, int64_t i, int64_t j, double si, double yi, double sj, double yj,
                        ItemSums& sums) const {
    if (yj == yi) return;
    const bool better = yi > yj;
    sums.pairs += better;
    const double di = disc[i], dj = disc[j], norm = idcg[g];
    // A list without a relevant item adds nothing; pairs with both items below k weigh 0.
    if (!(norm > 0) || (di == 0.0 && dj == 0.0)) return;
    const double wt = fabs(gain[i] - gain[j]) * fabs(di - dj) / norm;
    if (pair_loss == int(PairLoss::kLogistic)) {
      if (better) {
        const double x = -sigma * (si - sj);
        sums.loss += wt * softplus(x);
        sums.grad -= sigma * wt * sigmoid(x);
      } else {
        sums.grad += sigma * wt * sigmoid(-sigma * (sj - si));
      }
      return;
    }
    const bool squared = pair_loss == int(PairLoss::kSquaredHinge);
    const double m = margin;
    if (better && sj + m > si) {
      const double z = (sj + m) - si;
      sums.loss += wt * (squared ? z * z : z);
      sums.grad -= wt * (squared ? 2 * z : 1.0);
    } else if (!better && si + m > sj) {
      const double z = (si + m) - sj;
      sums.grad += wt * (squared ? 2 * z : 1.0);
    }
  }
};

// Gain of a target value, and the overflow check of 2^y - 1.
FR_HD inline double lambda_gain(double y, bool exp2_gain, int* status) {
  if (exp2_gain && y > 1000.0) raise_status(status, kGainOverflow);
  return exp2_gain ? exp2(y) - 1.0 : y;
}

template <typename T, typename Exec>
int lambdarank_run(const Exec& ex, const LambdaRankArgs& a, DeviceCall& call) {
  Carver c(call.workspace);
  const ListWork w = carve_list_work(ex, c, a.n_items, a.n_lists);
  double* gain = c.take<double>(a.n_items);
  double* disc = c.take<double>(a.n_items);
  double* ideal = c.take<double>(a.n_items);
  double* idcg = c.take<double>(a.n_lists);
  FASTRANK_CARVE_OR_MEASURE(c, call)
  safe_offsets(ex, a, w, call.status);
  const T* s = static_cast<const T*>(a.scores);
  const T* y = static_cast<const T*>(a.targets);
  const int64_t* off = w.offsets;
  const int64_t n_lists = a.n_lists;
  const int64_t k = a.k < 0 ? INT64_MAX : a.k;
  const bool exp2_gain = a.gain == Gain::kExp2;
  int* status = call.status;

  // Rank position by score (descending, ties by index) gives the discount; position by
  // target (descending, ties by index) gives the item's term of the ideal DCG@k: gains
  // are non-decreasing in the target, so this orders the gains as the ideal ranking does.
  // (for_item_pairs below checks the values.)
  ex.for_each(a.n_items, [=] FR_HD(int64_t i) {
    const int64_t g = list_of(off, n_lists, i);
    const double si = double(s[i]), yi = double(y[i]);
    int64_t p = 0, q = 0;
    for (int64_t j = off[g]; j < off[g + 1]; ++j) {
      const double sj = double(s[j]), yj = double(y[j]);
      p += sj > si || (sj == si && j < i);
      q += yj > yi || (yj == yi && j < i);
    }
    const double gi = lambda_gain(yi, exp2_gain, status);
    gain[i] = gi;
    disc[i] = p < k ? 1.0 / log2(double(p) + 2.0) : 0.0;
    ideal[i] = q < k ? gi / log2(double(q) + 2.0) : 0.0;
  });
  ex.segmented_sum(ideal, off, n_lists, idcg, w.temp, w.temp_bytes);

  const LambdaPairTerms terms{gain, disc, idcg, int(a.pair_loss), a.sigma, a.margin};
  for_item_pairs<T>(ex, a, status, w, terms);
  finish_lists<T>(ex, a, w);
  return ex.error();
}

}  // namespace device
}  // namespace fastrank
