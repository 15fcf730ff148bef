// Pairwise hinge and squared hinge on the device in O(n log n) work per list, for lists
// too long for the item-parallel O(n²) walk of list_device.h (docs/algorithms.md §1, the CPU
// kernel's two passes): pass 1 gives each item a the moments (1, s, s²) of its active lower
// partners (keys s_b + m above s_a, levels below), pass 2 each item b those of its active
// higher partners (scores below s_b + m, levels above), both as dominance sums
// (sweep_device.h) instead of Fenwick sweeps; the per-item arithmetic is the CPU kernel's.
#pragma once

#include "device_api.h"
#include "list_device.h"
#include "sweep_device.h"

namespace fastrank {
namespace device {

template <typename T, typename Exec>
int pairwise_hinge_sweep_run(const Exec& ex, const HingeSweepArgs& a, DeviceCall& call) {
  const int64_t n = a.n_items, n_lists = a.n_lists;
  const int64_t longest = a.longest > 0 ? a.longest : 0;
  const bool ranked = a.rank_weight != RankWeight::kNone;
  Carver c(call.workspace);
  const ListWork w = carve_list_work(ex, c, n, n_lists);
  SweepWork sw = carve_sweep(ex, c, w.offsets, n, n_lists, longest);
  double* omega = c.take<double>(n);
  double* harmonic = ranked ? c.take<double>(longest + 1) : nullptr;
  double* inverse = ranked ? c.take<double>(longest + 1) : nullptr;
  const size_t harmonic_temp_bytes = ranked ? ex.template inclusive_sum_temp_bytes<double>(longest + 1) : 0;
  void* harmonic_temp = c.bytes(harmonic_temp_bytes);
  FASTRANK_CARVE_OR_MEASURE(c, call)
  safe_offsets(ex, a, w, call.status);

  const T* s = static_cast<const T*>(a.scores);
  const T* y = static_cast<const T*>(a.targets);
  const double m = a.margin;
  const bool squared = a.squared, weighted = a.weighted, warp_mean = a.rank_weight == RankWeight::kWarp;
  int* status = call.status;
  const int64_t* list_id = sw.list_id;
  const int64_t* level = sw.level;
  const LevelIndex levels = sw.levels;
  double* acc = sw.acc;

  assign_lists(ex, sw);
  // `longest` sizes the WARP table and bounds the level bits inside a graph capture.
  check_long_lists<T>(ex, a, w, longest, status);
  rank_levels(ex, sw, [=] FR_HD(int64_t i) { return ordered_bits(double(y[i])); });
  double* item_pairs = w.item_pairs;
  ex.for_each(n, [=] FR_HD(int64_t i) { item_pairs[i] = double(levels.below(list_id[i], level[i])); });
  if (ranked) {
    ex.for_each(longest + 1, [=] FR_HD(int64_t j) { inverse[j] = j == 0 ? 0.0 : 1.0 / double(j); });
    ex.inclusive_sum(inverse, harmonic, longest + 1, harmonic_temp, harmonic_temp_bytes);
  }

  // Pass 1, the higher side: for a, its lower partners b with key s_b + m > s_a.
  int64_t* order = sort_entries(ex, sw, [=] FR_HD(int64_t i, bool query) {
    const double key = query ? double(s[i]) : double(s[i]) + m;
    return ~ordered_bits(key);  // descending
  });
  auto lower_moments = [=] FR_HD(int64_t b, double* v) {
    const double sb = double(s[b]);
    v[0] = 1.0; v[1] = sb; v[2] = sb * sb;
    if (weighted) {
      const double gb = double(y[b]);
      v[3] = gb; v[4] = gb * sb; v[5] = gb * sb * sb;
    }
  };
  if (weighted) dominance_sums<7>(ex, sw, order, 0, lower_moments);
  else dominance_sums<4>(ex, sw, order, 0, lower_moments);
  double* item_loss = w.item_loss;
  double* item_grad = w.item_grad;
  const int stride1 = weighted ? 6 : 3;
  ex.for_each(n, [=] FR_HD(int64_t i) {
    const double* q = acc + i * stride1;
    const double sa = double(s[i]), u = m - sa;
    double om = 1.0;
    if (ranked) {
      // An exact count held in a double; below the list's length, which is at most `longest`
      // unless the offsets were reported bad.
      const int64_t v = int64_t(q[0] + 0.5) < longest ? int64_t(q[0] + 0.5) : longest;
      om = v == 0 ? 0.0 : (warp_mean ? harmonic[v] / double(v) : harmonic[v]);
    }
    omega[i] = om;
    auto h_sum = [=](double cnt, double S, double Q) { return squared ? cnt * u * u + 2 * u * S + Q : cnt * u + S; };
    auto d_sum = [=](double cnt, double S) { return squared ? 2 * (cnt * u + S) : cnt; };
    if (weighted) {
      const double ga = double(y[i]);
      item_loss[i] = om * (ga * h_sum(q[0], q[1], q[2]) - h_sum(q[3], q[4], q[5]));
      item_grad[i] = -om * (ga * d_sum(q[0], q[1]) - d_sum(q[3], q[4]));
    } else {
      item_loss[i] = om * h_sum(q[0], q[1], q[2]);
      item_grad[i] = -om * d_sum(q[0], q[1]);
    }
  });

  // Pass 2, the lower side: for b, its higher partners a with s_a < s_b + m.
  order = sort_entries(ex, sw, [=] FR_HD(int64_t i, bool query) {
    return ordered_bits(query ? double(s[i]) + m : double(s[i]));
  });
  auto upper_moments = [=] FR_HD(int64_t i, double* v) {
    const double om = omega[i], sa = double(s[i]);
    v[0] = om; v[1] = om * sa;
    if (weighted) {
      const double ga = double(y[i]);
      v[2] = om * ga; v[3] = om * ga * sa;
    }
  };
  if (weighted) dominance_sums<5>(ex, sw, order, 1, upper_moments);
  else dominance_sums<3>(ex, sw, order, 1, upper_moments);
  const int stride2 = weighted ? 4 : 2;
  ex.for_each(n, [=] FR_HD(int64_t i) {
    const double* q = acc + i * stride2;
    const double tb = double(s[i]) + m;
    auto d_sum = [=](double cnt, double S) { return squared ? 2 * (cnt * tb - S) : cnt; };
    item_grad[i] += weighted ? d_sum(q[2], q[3]) - double(y[i]) * d_sum(q[0], q[1]) : d_sum(q[0], q[1]);
  });

  finish_lists<T>(ex, a, w);
  return ex.error();
}

}  // namespace device
}  // namespace fastrank
