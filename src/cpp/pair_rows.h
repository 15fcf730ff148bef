// Inner loops over one row of pairs (one item against a run of partners), written
// branch-free so that they vectorise, and compiled for several x86 vector widths
// (chosen at load time) in pair_rows.cpp. Inputs are already gathered into contiguous
// double arrays and are finite.
#pragma once

#include <cstdint>

namespace fastrank {

// RankNet row: Σ_q log(1 + exp(-σ(sa - sb[q]))). Adds ∂/∂sb[q] into gb[q], the row
// item's derivative into *ga, and returns the row's loss.
// Computed in the precision of the inputs; gradients and losses accumulate in double.
double ranknet_row(float sa, const float* sb, int64_t m, float sigma, double* gb, double* ga);
double ranknet_row(double sa, const double* sb, int64_t m, double sigma, double* gb, double* ga);

// LambdaRank row at rank position p against later positions q (arrays start at p + 1):
// Σ_q |G_p - G_q|·(D_p - D_q)·log(1 + exp(-σ·sign(G_p - G_q)·(s_p - s_q))).
// Gains arrive divided by the list's ideal DCG, so they lie in [0, 1] in either precision.
double lambda_row(float sp, float gp, float dp, const float* s, const float* g, const float* d, int64_t m,
                  float sigma, double* gq, double* g_p);
double lambda_row(double sp, double gp, double dp, const double* s, const double* g, const double* d, int64_t m,
                  double sigma, double* gq, double* g_p);

// Direct pairwise hinge row for better item (sa, ya) against all items (key = s + m, y):
// pairs with y < ya and key > sa, weight 1 or ya - y, loss z or z² with z = key - sa.
double hinge_row(double sa, double ya, const double* key, const double* y, int64_t n, bool squared, bool weighted,
                 double* gb, double* ga);

}  // namespace fastrank
