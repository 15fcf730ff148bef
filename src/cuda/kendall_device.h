// Kendall's τ-b on the device, two ways, both with exact integer counts held in doubles
// (exact below 2^53) and τ-b formed as kendall_tau.cpp forms it:
// - kendall_tau_b: one thread per item counts its pairs with every later item (ties in x,
//   ties in y, concordant minus discordant) in O(n): O(n²) work, one launch, for short inputs;
// - kendall_tau_b_sweep: O(n log n) work with sorts and scans (sweep_device.h): ties from
//   the sizes of the levels of x, of y and of (x, y), discordant pairs as dominance sums.
#pragma once

#include "device_api.h"
#include "sweep_device.h"

namespace fastrank {
namespace device {

// τ-b from the pair counts: x_ties and y_ties (pairs tied in x, in y) and balance
// (concordant minus discordant pairs); NaN below 2 items or for a constant input.
FR_HD inline double tau_b(int64_t n, double x_ties, double y_ties, double balance) {
  const double n0 = double(n) * double(n - 1) / 2.0;
  const double denominator = sqrt((n0 - x_ties) * (n0 - y_ties));
  return n >= 2 && denominator > 0 ? balance / denominator : NAN;
}

template <typename T, typename Exec>
int kendall_tau_b_run(const Exec& ex, const KendallArgs& a, DeviceCall& call) {
  Carver c(call.workspace);
  double* counts[3];
  for (auto& p : counts) p = c.take<double>(a.n);
  double* totals = c.take<double>(3);
  const size_t temp_bytes = ex.sum_temp_bytes(a.n, 1);
  void* temp = c.bytes(temp_bytes);
  FASTRANK_CARVE_OR_MEASURE(c, call)
  const T* x = static_cast<const T*>(a.x);
  const T* y = static_cast<const T*>(a.y);
  const int64_t n = a.n;
  double* x_ties = counts[0];
  double* y_ties = counts[1];
  double* balance = counts[2];
  ex.for_each(n, [=] FR_HD(int64_t i) {
    const T xi = x[i], yi = y[i];
    double tx = 0, ty = 0, cd = 0;
    for (int64_t j = i + 1; j < n; ++j) {
      const int sx = (x[j] > xi) - (x[j] < xi), sy = (y[j] > yi) - (y[j] < yi);
      tx += sx == 0;
      ty += sy == 0;
      cd += sx * sy;
    }
    x_ties[i] = tx;
    y_ties[i] = ty;
    balance[i] = cd;
  });
  for (int q = 0; q < 3; ++q) ex.sum(counts[q], n, totals + q, temp, temp_bytes);
  double* out = a.out;
  ex.for_each(1, [=] FR_HD(int64_t) { out[0] = tau_b(n, totals[0], totals[1], totals[2]); });
  return ex.error();
}

// out[i] = how many other items share item i's level (in list 0).
template <typename Exec>
void count_level_ties(const Exec& ex, const SweepWork& sw, double* out) {
  const LevelIndex levels = sw.levels;
  const int64_t* level = sw.level;
  ex.for_each(sw.n_items, [=] FR_HD(int64_t i) {
    const int64_t l = level[i];
    out[i] = double(levels.below(0, l + 1) - levels.below(0, l) - 1);
  });
}

template <typename T, typename Exec>
int kendall_tau_b_sweep_run(const Exec& ex, const KendallArgs& a, DeviceCall& call) {
  const int64_t n = a.n;
  Carver c(call.workspace);
  int64_t* offsets = c.take<int64_t>(2);  // one list of all n items
  SweepWork sw = carve_sweep(ex, c, offsets, n, 1, n);
  int64_t* x_level = c.take<int64_t>(n);
  int64_t* y_level = c.take<int64_t>(n);
  double* counts[4];  // per item: ties in x, ties in y, ties in both, discordant partners with smaller x
  for (auto& p : counts) p = c.take<double>(n);
  double* totals = c.take<double>(4);
  const size_t temp_bytes = ex.sum_temp_bytes(n, 1);
  void* temp = c.bytes(temp_bytes);
  FASTRANK_CARVE_OR_MEASURE(c, call)
  const T* x = static_cast<const T*>(a.x);
  const T* y = static_cast<const T*>(a.y);
  const int64_t* level = sw.level;
  ex.for_each(2, [=] FR_HD(int64_t q) { offsets[q] = q == 0 ? 0 : n; });
  assign_lists(ex, sw);

  rank_levels(ex, sw, [=] FR_HD(int64_t i) { return ordered_bits(double(x[i])); });
  count_level_ties(ex, sw, counts[0]);
  ex.for_each(n, [=] FR_HD(int64_t i) { x_level[i] = level[i]; });
  rank_levels(ex, sw, [=] FR_HD(int64_t i) { return ordered_bits(double(y[i])); });
  ex.for_each(n, [=] FR_HD(int64_t i) { y_level[i] = level[i]; });
  // Levels are below n < 2^32, so the pair of levels fits one key.
  rank_levels(ex, sw, [=] FR_HD(int64_t i) { return (uint64_t(x_level[i]) << 32) | uint64_t(y_level[i]); });
  count_level_ties(ex, sw, counts[2]);
  // The y levels again, for their ties and as the levels of the dominance sums.
  rank_levels(ex, sw, [=] FR_HD(int64_t i) { return ordered_bits(double(y[i])); });
  count_level_ties(ex, sw, counts[1]);

  // Discordant pairs: for each item q, the items p with x_p < x_q (before it in ascending x,
  // a query ahead of an equal x) on higher y levels.
  int64_t* order = sort_entries(ex, sw, [=] FR_HD(int64_t i, bool) { return ordered_bits(double(x[i])); });
  dominance_sums<2>(ex, sw, order, 1, [=] FR_HD(int64_t, double* v) { v[0] = 1.0; });
  const double* acc = sw.acc;
  double* discordant = counts[3];
  ex.for_each(n, [=] FR_HD(int64_t i) { discordant[i] = acc[i]; });

  for (int q = 0; q < 4; ++q) ex.sum(counts[q], n, totals + q, temp, temp_bytes);
  double* out = a.out;
  ex.for_each(1, [=] FR_HD(int64_t) {
    // Each tie was counted from both of its items; the concordant pairs are the rest.
    const double n0 = double(n) * double(n - 1) / 2.0;
    const double n1 = totals[0] / 2, n2 = totals[1] / 2, n3 = totals[2] / 2;
    out[0] = tau_b(n, n1, n2, n0 - n1 - n2 + n3 - 2 * totals[3]);
  });
  return ex.error();
}

}  // namespace device
}  // namespace fastrank
