// Inner loops over one row of pairs (one item against a run of partners), written
// branch-free so that they vectorise, and compiled for several x86 vector widths
// (chosen at load time) in pair_rows.cpp. Inputs are already gathered into contiguous
// double arrays and are finite.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace fastrank {

// RankNet row: Σ_q log(1 + exp(-σ(sa - sb[q]))). Adds ∂/∂sb[q] into gb[q], the row
// item's derivative into *ga, and returns the row's loss.
// Computed and accumulated in the precision of the inputs (see accumulate_rows).
float ranknet_row(float sa, const float* sb, int64_t m, float sigma, float* gb, float* ga);
double ranknet_row(double sa, const double* sb, int64_t m, double sigma, double* gb, double* ga);

// LambdaRank row at rank position p against later positions q (arrays start at p + 1):
// Σ_q |G_p - G_q|·(D_p - D_q)·log(1 + exp(-σ·sign(G_p - G_q)·(s_p - s_q))).
// Gains arrive divided by the list's ideal DCG, so they lie in [0, 1] in either precision.
float lambda_row(float sp, float gp, float dp, const float* s, const float* g, const float* d, int64_t m,
                 float sigma, float* gq, float* g_p);
double lambda_row(double sp, double gp, double dp, const double* s, const double* g, const double* d, int64_t m,
                  double sigma, double* gq, double* g_p);

// Direct pairwise hinge over one short list of n items (scores s, keys s + margin, targets y):
// pairs (a, b) with y_a > y_b and key_b > s_a, pair weight 1 or y_a - y_b, loss z or z² with
// z = key_b - s_a, every pair term times omega[a] (the better item's WARP rank weight; nullptr:
// 1). Returns the loss, writes ∂loss/∂s to grad[0..n) and adds the number of pairs to *pairs.
double hinge_list_direct(const double* s, const double* key, const double* y, const double* omega, int64_t n,
                         double margin, bool squared, bool weighted, double* grad, double* pairs);

// Number of active lower partners of (sa, ya): items with y < ya and key > sa.
int64_t count_active_row(double sa, double ya, const double* key, const double* y, int64_t n);

// Runs rows p0..p1-1 of an upper-triangular pair loop (row p touches positions >= p),
// row(p, acc) adding gradients into acc in precision R and returning its loss. acc is
// flushed into the double gradient gr every kBlock rows, so float rows keep float speed
// while no float sum grows longer than a block.
template <typename R, typename Row>
double accumulate_rows(int64_t p0, int64_t p1, int64_t n, double* gr, Row&& row) {
  constexpr int64_t kBlock = 32;
  thread_local std::vector<R> acc;
  acc.assign(n, R(0));
  double loss = 0;
  for (int64_t b0 = p0; b0 < p1; b0 += kBlock) {
    const int64_t b1 = std::min(p1, b0 + kBlock);
    for (int64_t p = b0; p < b1; ++p) loss += double(row(p, acc.data()));
    for (int64_t i = b0; i < n; ++i) {
      gr[i] += double(acc[i]);
      acc[i] = R(0);
    }
  }
  return loss;
}

}  // namespace fastrank
