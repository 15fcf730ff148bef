// LambdaRank truncated at k on long lists, in O(n log n + n·k) work (docs/algorithms.md §2), for
// lists too long for the item-parallel walk of list_device.h (which also counts every rank in
// O(n) per item). Only pairs with a member among the first k by score weigh anything, so:
// - ranks come from sorts (rank_levels by score, then by target: positions, levels, IDCG@k);
// - an item ranked below k visits just the first k items of its list;
// - an item ranked within k meets every item of its list, in chunks that run in parallel
//   ("units": top item × chunk of partners), summed per item in a fixed order afterwards.
// Every item still writes only its own sums, as in the item-parallel kernel.
#pragma once

#include "device_api.h"
#include "list_device.h"
#include "sweep_device.h"

namespace fastrank {
namespace device {

// Partners one unit visits: at least this many, more where the lists are long and k large,
// so that the units of a call stay below about kMaxUnits + n.
constexpr int64_t kMinChunk = 2048;
constexpr int64_t kMaxUnits = int64_t(1) << 22;

inline int64_t partner_chunk(int64_t k, int64_t longest, int64_t n) {
  const int64_t top = std::min(k, longest);
  return std::max(kMinChunk, (top * n + kMaxUnits - 1) / kMaxUnits);
}

// The first g with ends[g] > u (ends non-decreasing, u < ends[n - 1]).
FR_HD inline int64_t first_above(const int64_t* ends, int64_t n, int64_t u) {
  int64_t lo = 0, hi = n - 1;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (ends[mid] > u) hi = mid; else lo = mid + 1;
  }
  return lo;
}

template <typename T, typename Exec>
int lambdarank_topk_run(const Exec& ex, const LambdaRankTopArgs& a, DeviceCall& call) {
  const int64_t n = a.n_items, n_lists = a.n_lists;
  const int64_t k = a.k > 0 ? a.k : 1;  // the caller sends the full sum (k = -1) elsewhere
  const int64_t longest = a.longest > 0 ? a.longest : 0;
  const int64_t chunk = partner_chunk(k, longest, n);
  const int64_t max_units = std::min(k, longest) * (n / chunk + 1) + n;
  Carver c(call.workspace);
  const ListWork w = carve_list_work(ex, c, n, n_lists);
  SweepWork sw = carve_sweep(ex, c, w.offsets, n, n_lists, longest, false);
  double* gain = c.take<double>(n);
  double* disc = c.take<double>(n);
  double* ideal = c.take<double>(n);
  double* idcg = c.take<double>(n_lists);
  int64_t* score_pos = c.take<int64_t>(n);  // place by (score desc, index) in its list
  int64_t* by_score = c.take<int64_t>(n);   // items in that order, list by list
  int64_t* list_units = c.take<int64_t>(n_lists);
  int64_t* units_end = c.take<int64_t>(n_lists);
  double* unit_loss = c.take<double>(max_units);
  double* unit_grad = c.take<double>(max_units);
  const size_t scan_temp_bytes = ex.template inclusive_sum_temp_bytes<int64_t>(n_lists);
  void* scan_temp = c.bytes(scan_temp_bytes);
  FASTRANK_CARVE_OR_MEASURE(c, call)
  safe_offsets(ex, a, w, call.status);

  const T* s = static_cast<const T*>(a.scores);
  const T* y = static_cast<const T*>(a.targets);
  const int64_t* off = w.offsets;
  const bool exp2_gain = a.gain == Gain::kExp2;
  int* status = call.status;
  const int64_t* list_id = sw.list_id;
  const int64_t* level = sw.level;
  const int64_t* position = sw.position;
  const int64_t* first = sw.first;
  const LevelIndex levels = sw.levels;

  assign_lists(ex, sw);
  check_long_lists<T>(ex, a, w, longest, status);
  ex.for_each(n, [=] FR_HD(int64_t i) { gain[i] = lambda_gain(double(y[i]), exp2_gain, status); });

  // Rank by score (descending, ties by index): the discount.
  rank_levels(ex, sw, [=] FR_HD(int64_t i) { return ~ordered_bits(double(s[i])); });
  ex.for_each(n, [=] FR_HD(int64_t i) {
    const int64_t p = position[i] - off[list_id[i]];
    score_pos[i] = p;
    by_score[position[i]] = i;
    disc[i] = p < k ? 1.0 / log2(double(p) + 2.0) : 0.0;
  });
  // Target levels (ascending): each item's lower partners, and its place by (target
  // descending, index) for the ideal DCG@k, as the item-parallel kernel counts it.
  rank_levels(ex, sw, [=] FR_HD(int64_t i) { return ordered_bits(double(y[i])); });
  double* item_pairs = w.item_pairs;
  ex.for_each(n, [=] FR_HD(int64_t i) {
    const int64_t g = list_id[i], l = level[i];
    const int64_t len = off[g + 1] - off[g];
    const int64_t q = len - levels.below(g, l + 1) + (position[i] - first[off[g] + l]);
    ideal[i] = q < k ? gain[i] / log2(double(q) + 2.0) : 0.0;
    item_pairs[i] = double(levels.below(g, l));
  });
  ex.segmented_sum(ideal, off, n_lists, idcg, w.temp, w.temp_bytes);
  const LambdaPairTerms terms{gain, disc, idcg, int(a.pair_loss), a.sigma, a.margin};

  // The first k items of each list against every item of it, a chunk per unit.
  ex.for_each(n_lists, [=] FR_HD(int64_t g) {
    const int64_t len = off[g + 1] - off[g];
    list_units[g] = (len < k ? len : k) * ((len + chunk - 1) / chunk);
  });
  ex.inclusive_sum(list_units, units_end, n_lists, scan_temp, scan_temp_bytes);
  const int64_t units = n_lists > 0 ? std::min(max_units, ex.read_back(units_end + n_lists - 1, max_units)) : 0;
  ex.for_each(units, [=] FR_HD(int64_t u) {
    if (u >= units_end[n_lists - 1]) return;  // the bound, inside a graph capture
    const int64_t g = first_above(units_end, n_lists, u);
    const int64_t len = off[g + 1] - off[g], chunks = (len + chunk - 1) / chunk;
    const int64_t local = u - (units_end[g] - list_units[g]);
    const int64_t t = by_score[off[g] + local / chunks];
    const int64_t begin = off[g] + (local % chunks) * chunk;
    const int64_t end = begin + chunk < off[g + 1] ? begin + chunk : off[g + 1];
    const double st = double(s[t]), yt = double(y[t]);
    ItemSums sums;
    for (int64_t j = begin; j < end; ++j) terms(g, t, j, st, yt, double(s[j]), double(y[j]), sums);
    unit_loss[u] = sums.loss;
    unit_grad[u] = sums.grad;
  });

  double* item_loss = w.item_loss;
  double* item_grad = w.item_grad;
  ex.for_each(n, [=] FR_HD(int64_t i) {
    const int64_t g = list_id[i], p = score_pos[i];
    const int64_t len = off[g + 1] - off[g], top = len < k ? len : k;
    ItemSums sums;
    if (p < k) {
      const int64_t chunks = (len + chunk - 1) / chunk;
      const int64_t base = units_end[g] - list_units[g] + p * chunks;
      // base + q < units unless the offsets were reported bad (lists longer than `longest`).
      for (int64_t q = 0; q < chunks && base + q < units; ++q) {
        sums.loss += unit_loss[base + q];
        sums.grad += unit_grad[base + q];
      }
    } else {
      const double si = double(s[i]), yi = double(y[i]);
      for (int64_t r = 0; r < top; ++r) {
        const int64_t j = by_score[off[g] + r];
        terms(g, i, j, si, yi, double(s[j]), double(y[j]), sums);
      }
    }
    item_loss[i] = sums.loss;
    item_grad[i] = sums.grad;
  });
  finish_lists<T>(ex, a, w);
  return ex.error();
}

}  // namespace device
}  // namespace fastrank
