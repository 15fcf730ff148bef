#include "pair_rows.h"

#include <cstring>

#include "cpu_targets.h"

namespace fastrank {
namespace {

FASTRANK_INLINE uint64_t bits_of(double x) { uint64_t b; std::memcpy(&b, &x, 8); return b; }
FASTRANK_INLINE double double_of(uint64_t b) { double x; std::memcpy(&x, &b, 8); return x; }

FASTRANK_INLINE uint32_t bits_of(float x) { uint32_t b; std::memcpy(&b, &x, 4); return b; }
FASTRANK_INLINE float float_of(uint32_t b) { float x; std::memcpy(&x, &b, 4); return x; }

// e^x for x <= 0 without branches or library calls (libm's exp does not vectorise).
// x = k·ln2 + r with |r| <= ln2/2; e^r by its Taylor series (to r^13 in double, error
// < 1e-17; to r^7 in float, error < 1e-8); 2^k added straight into the exponent bits.
// Below the cut-off (e^x < 1e-304, resp. 1e-37) the result is 0.
FASTRANK_INLINE double exp_nonpositive(double x) {
  const double tiny = x < -700.0 ? 0.0 : 1.0;
  x = x < -700.0 ? -700.0 : x;
  const double shifter = 6755399441055744.0;  // 1.5·2^52: adding it rounds to an integer
  const double t = x * 1.4426950408889634 + shifter;
  const double k = t - shifter;
  const double r = (x - k * 0.6931471803691238) - k * 1.9082149292705877e-10;  // Cody–Waite split of ln 2
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // The low mantissa bits of t hold k; shifted into the exponent field they scale p by 2^k.
  return double_of(bits_of(p) + (bits_of(t) << 52)) * tiny;
}

FASTRANK_INLINE float exp_nonpositive(float x) {
  const float tiny = x < -85.0f ? 0.0f : 1.0f;
  x = x < -85.0f ? -85.0f : x;
  const float shifter = 12582912.0f;  // 1.5·2^23
  const float t = x * 1.44269504f + shifter;
  const float k = t - shifter;
  const float r = (x - k * 0.693359375f) - k * -2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return float_of(bits_of(p) + (bits_of(t) << 23)) * tiny;
}

// Σ_{j<=J} w^j / (2j + 1) with J chosen for the precision of R (|w| <= 0.0295).
FASTRANK_INLINE double atanh_series(double w) {
  double p = 1.0 / 21;
  p = p * w + 1.0 / 19;
  p = p * w + 1.0 / 17;
  p = p * w + 1.0 / 15;
  p = p * w + 1.0 / 13;
  p = p * w + 1.0 / 11;
  p = p * w + 1.0 / 9;
  p = p * w + 1.0 / 7;
  p = p * w + 1.0 / 5;
  p = p * w + 1.0 / 3;
  return p * w + 1.0;
}

FASTRANK_INLINE float atanh_series(float w) {
  // to w^4: the next term, w^5/11 <= 2e-9, is far below float's 6e-8
  float p = 1.0f / 9;
  p = p * w + 1.0f / 7;
  p = p * w + 1.0f / 5;
  p = p * w + 1.0f / 3;
  return p * w + 1.0f;
}

// log(1 + exp(-x)) and 1 / (1 + exp(x)) for any finite x, sharing one exponential and
// one division. With e = exp(-|x|) in (0, 1], log(1 + e) = 2·atanh(t) + c where
// t = e / (2 + e), c = 0 for e <= √2 - 1, and t = (e - 1) / (3 + e), c = ln 2 above
// (log((1 + e) / 2) + ln 2). Either way |t| <= 0.172, so a short odd series reaches
// full precision, and t stays accurate for tiny e.
template <typename R>
FASTRANK_INLINE void logistic_terms(R x, R& softplus, R& sigmoid) {
  const R one = 1;
  const R ax = x < 0 ? -x : x;
  const R e = exp_nonpositive(-ax);
  const bool low = e <= R(0.41421356237309503);
  const R num = low ? e : e - one;
  const R den = low ? R(2) + e : R(3) + e;
  const R inv = one / (den * (one + e));  // one division serves t and the sigmoid
  const R t = num * (one + e) * inv;
  softplus = R(2) * t * atanh_series(t * t) + (low ? R(0) : R(0.6931471805599453)) + (x < 0 ? -x : R(0));
  sigmoid = (x >= 0 ? e : one) * den * inv;
}

// Rows accumulate in the precision R of the inputs so that the whole loop runs at R's
// vector width; callers flush the partner gradients into double every few rows.
template <typename R>
FASTRANK_INLINE R ranknet_row_impl(R sa, const R* sb, int64_t m, R sigma, R* gb, R* ga) {
  R loss = 0, g = 0;
#pragma omp simd reduction(+ : loss, g)
  for (int64_t q = 0; q < m; ++q) {
    R sp, sig;
    logistic_terms<R>(sigma * (sa - sb[q]), sp, sig);
    loss += sp;
    g -= sigma * sig;
    gb[q] += sigma * sig;
  }
  *ga += g;
  return loss;
}

template <typename R>
FASTRANK_INLINE R lambda_row_impl(R sp, R gp, R dp, const R* s, const R* g, const R* d, int64_t m, R sigma, R* gq,
                                  R* g_p) {
  R loss = 0, grad_p = 0;
#pragma omp simd reduction(+ : loss, grad_p)
  for (int64_t q = 0; q < m; ++q) {
    const R dg = gp - g[q];
    // Equal gains (equal targets) give weight 0, so the sign chosen for them is moot.
    const R sign = dg >= 0 ? R(1) : R(-1);
    const R wt = (dg >= 0 ? dg : -dg) * (dp - d[q]);
    R softplus, sig;
    logistic_terms<R>(sign * sigma * (sp - s[q]), softplus, sig);
    loss += wt * softplus;
    const R slope = sign * sigma * wt * sig;
    grad_p -= slope;
    gq[q] += slope;
  }
  *g_p += grad_p;
  return loss;
}

// Every pair term of item i is a reduction over the list (i as the better item, then as the
// worse one), so a row stores nothing into its partners: short lists run at the vector
// units' speed instead of waiting on the partners' gradient loads and stores.
template <bool Squared, bool Weighted, bool Ranked>
FASTRANK_INLINE double hinge_item_impl(double si, double yi, double wi, const double* s, const double* key,
                                       const double* y, const double* omega, int64_t n, double margin, double* gi,
                                       double* lower) {
  const double ki = si + margin;
  // Separate sums for i's two roles and wi applied once at the end: every lane update is then
  // one add of a masked value, the shortest dependency chain a short row can have.
  double loss = 0, g_better = 0, g_worse = 0, count = 0;
#pragma omp simd reduction(+ : loss, g_better, g_worse, count)
  for (int64_t j = 0; j < n; ++j) {
    const bool below = y[j] < yi, above = y[j] > yi;
    const double z1 = key[j] - si, z2 = ki - s[j];  // i better than j; j better than i
    const bool on1 = below & (z1 > 0), on2 = above & (z2 > 0);
    const double w1 = Weighted ? yi - y[j] : 1.0;
    const double w2 = (Weighted ? y[j] - yi : 1.0) * (Ranked ? omega[j] : 1.0);
    const double a1 = on1 ? z1 : 0.0, a2 = on2 ? z2 : 0.0;
    loss += Weighted ? w1 * (Squared ? a1 * a1 : a1) : (Squared ? a1 * a1 : a1);
    g_better += Squared ? w1 * a1 : (on1 ? w1 : 0.0);
    g_worse += Squared ? w2 * a2 : (on2 ? w2 : 0.0);
    count += below ? 1.0 : 0.0;  // a double count: one more lane op, exact below 2^53
  }
  *gi = (Squared ? 2.0 : 1.0) * (g_worse - wi * g_better);
  *lower += count;
  return wi * loss;
}

template <bool Squared, bool Weighted, bool Ranked>
FASTRANK_INLINE double hinge_list_impl(const double* s, const double* key, const double* y, const double* omega,
                                       int64_t n, double margin, double* grad, double* pairs) {
  double loss = 0;
  for (int64_t i = 0; i < n; ++i)
    loss += hinge_item_impl<Squared, Weighted, Ranked>(s[i], y[i], Ranked ? omega[i] : 1.0, s, key, y, omega, n,
                                                       margin, &grad[i], pairs);
  return loss;
}

// The flags are resolved once per list, outside the item loop.
FASTRANK_INLINE double hinge_list_of(const double* s, const double* key, const double* y, const double* omega,
                                     int64_t n, double margin, bool squared, bool weighted, double* grad,
                                     double* pairs) {
  const bool ranked = omega != nullptr;
#define FASTRANK_HINGE_LIST(SQ, WT, RK)                  \
  if (squared == SQ && weighted == WT && ranked == RK) \
    return hinge_list_impl<SQ, WT, RK>(s, key, y, omega, n, margin, grad, pairs);
  FASTRANK_HINGE_LIST(false, false, false) FASTRANK_HINGE_LIST(false, false, true)
  FASTRANK_HINGE_LIST(false, true, false) FASTRANK_HINGE_LIST(false, true, true)
  FASTRANK_HINGE_LIST(true, false, false) FASTRANK_HINGE_LIST(true, false, true)
  FASTRANK_HINGE_LIST(true, true, false)
#undef FASTRANK_HINGE_LIST
  return hinge_list_impl<true, true, true>(s, key, y, omega, n, margin, grad, pairs);
}

FASTRANK_INLINE int64_t count_active_row_of(double sa, double ya, const double* key, const double* y, int64_t n) {
  int64_t count = 0;
#pragma omp simd reduction(+ : count)
  for (int64_t b = 0; b < n; ++b) count += (y[b] < ya) & (key[b] > sa);
  return count;
}

}  // namespace

// One plain overload per precision: the multiversioning macro makes functions, not templates.
#define FASTRANK_ROWS_FOR(R)                                                                                  \
  FASTRANK_MULTIVERSION(R, ranknet_row, (R sa, const R* sb, int64_t m, R sigma, R* gb, R* ga),                \
                        (sa, sb, m, sigma, gb, ga), ranknet_row_impl<R>)                                        \
  FASTRANK_MULTIVERSION(R, lambda_row,                                                                        \
                        (R sp, R gp, R dp, const R* s, const R* g, const R* d, int64_t m, R sigma, R* gq, R* g_p), \
                        (sp, gp, dp, s, g, d, m, sigma, gq, g_p), lambda_row_impl<R>)
FASTRANK_ROWS_FOR(float)
FASTRANK_ROWS_FOR(double)
#undef FASTRANK_ROWS_FOR

FASTRANK_MULTIVERSION(double, hinge_list_direct,
                      (const double* s, const double* key, const double* y, const double* omega, int64_t n,
                       double margin, bool squared, bool weighted, double* grad, double* pairs),
                      (s, key, y, omega, n, margin, squared, weighted, grad, pairs), hinge_list_of)
FASTRANK_MULTIVERSION(int64_t, count_active_row, (double sa, double ya, const double* key, const double* y, int64_t n),
                      (sa, ya, key, y, n), count_active_row_of)

}  // namespace fastrank
