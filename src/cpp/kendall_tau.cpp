// Kendall's τ-b in O(n log n) (Knight 1966; docs/algorithms.md §5), the quantity
// scipy.stats.kendalltau computes by default.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "kernels.h"

namespace fastrank {
namespace {

// Σ t(t-1)/2 over runs of equal values of a sorted sequence.
template <typename Eq>
int64_t tied_pairs(int64_t n, Eq&& equal_to_previous) {
  int64_t total = 0, run = 1;
  for (int64_t i = 1; i <= n; ++i) {
    if (i < n && equal_to_previous(i)) {
      ++run;
    } else {
      total += run * (run - 1) / 2;
      run = 1;
    }
  }
  return total;
}

// Sorts v ascending and returns the number of pairs i < j with v[i] > v[j].
int64_t sort_counting_inversions(std::vector<double>& v, std::vector<double>& buffer) {
  const int64_t n = int64_t(v.size());
  buffer.resize(n);
  int64_t swaps = 0;
  for (int64_t width = 1; width < n; width *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * width) {
      const int64_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (v[j] < v[i]) {
          swaps += mid - i;  // v[j] jumps over every remaining element of the left run
          buffer[k++] = v[j++];
        } else {
          buffer[k++] = v[i++];
        }
      }
      while (i < mid) buffer[k++] = v[i++];
      while (j < hi) buffer[k++] = v[j++];
    }
    std::swap(v, buffer);
  }
  return swaps;
}

template <typename T>
double tau_b(const T* x, const T* y, int64_t n) {
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return x[a] < x[b] || (x[a] == x[b] && y[a] < y[b]);
  });
  const int64_t x_ties = tied_pairs(n, [&](int64_t i) { return x[order[i]] == x[order[i - 1]]; });
  const int64_t xy_ties = tied_pairs(n, [&](int64_t i) {
    return x[order[i]] == x[order[i - 1]] && y[order[i]] == y[order[i - 1]];
  });
  std::vector<double> ys(n), buffer;
  for (int64_t i = 0; i < n; ++i) ys[i] = double(y[order[i]]);
  const int64_t swaps = sort_counting_inversions(ys, buffer);
  const int64_t y_ties = tied_pairs(n, [&](int64_t i) { return ys[i] == ys[i - 1]; });
  const double n0 = double(n) * double(n - 1) / 2.0;
  const double denominator = std::sqrt((n0 - double(x_ties)) * (n0 - double(y_ties)));
  if (!(denominator > 0)) return std::numeric_limits<double>::quiet_NaN();
  const double concordant_minus_discordant =
      n0 - double(x_ties) - double(y_ties) + double(xy_ties) - 2.0 * double(swaps);
  return concordant_minus_discordant / denominator;
}

}  // namespace

double kendall_tau_b_cpu(DType dtype, const void* x, const void* y, int64_t n) {
  if (dtype == DType::kFloat64) return tau_b(static_cast<const double*>(x), static_cast<const double*>(y), n);
  return tau_b(static_cast<const float*>(x), static_cast<const float*>(y), n);
}

}  // namespace fastrank
