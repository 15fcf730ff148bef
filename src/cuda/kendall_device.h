// Kendall's τ-b on the device: one thread per item counts its pairs with every later
// item (ties in x, ties in y, and concordant minus discordant) in O(n) — exact
// integer counts held in doubles (exact below 2^53) — then three sums give τ-b as
// kendall_tau.cpp does. O(n²) work: the Python layer sends long sequences to the
// O(n log n) CPU kernel instead.
#pragma once

#include "device_api.h"

namespace fastrank {
namespace device {

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
  ex.for_each(1, [=] FR_HD(int64_t) {
    const double n0 = double(n) * double(n - 1) / 2.0;
    const double denominator = sqrt((n0 - totals[0]) * (n0 - totals[1]));
    out[0] = n >= 2 && denominator > 0 ? totals[2] / denominator : NAN;
  });
  return ex.error();
}

}  // namespace device
}  // namespace fastrank
