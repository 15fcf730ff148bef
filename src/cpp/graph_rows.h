// Per-graph dense products of the GCN propagation (n <= 64 nodes, f features), vectorised
// over features and compiled for several x86 vector widths in graph_rows.cpp.
#pragma once

#include <cstdint>

namespace fastrank {

// out = M h, then ReLU if relu; M is n×n row-major, h and out n×f.
void graph_product(const float* m, const float* h, float* out, int64_t n, int64_t f, bool relu);
void graph_product(const double* m, const double* h, double* out, int64_t n, int64_t f, bool relu);

// out = Mᵀ g.
void graph_product_transposed(const float* m, const float* g, float* out, int64_t n, int64_t f);
void graph_product_transposed(const double* m, const double* g, double* out, int64_t n, int64_t f);

}  // namespace fastrank
