// Graph layouts of the enumerable spaces (fastrank.spaces cell.py / chain.py), shared by
// the C++ encoder and the CUDA encoder so that both write exactly the same tensors.
// Callers zero `ops` and `adj` first.
#pragma once

#include <cstdint>

#include "host_device.h"

namespace fastrank {

// Edge-op cell (NB201, TransNAS micro): input, the 6 edges as nodes in string order, output.
template <typename A>
FR_HD void edge_cell(int64_t code, int n_ops, int64_t* ops, A* adj, bool* mask) {
  constexpr int N = 8;
  const int from[6] = {0, 0, 1, 0, 1, 2};  // edge e joins cell node from[e] -> to[e]
  const int to[6] = {1, 2, 2, 3, 3, 3};
  int digit[6];
  for (int e = 5; e >= 0; --e) {
    digit[e] = int(code % n_ops);
    code /= n_ops;
  }
  ops[0] = 0;
  ops[N - 1] = 1;
  for (int e = 0; e < 6; ++e) {
    ops[e + 1] = 2 + digit[e];
    if (from[e] == 0) adj[0 * N + e + 1] = A(1);
    if (to[e] == 3) adj[(e + 1) * N + N - 1] = A(1);
    for (int f = 0; f < 6; ++f)
      if (from[f] == to[e]) adj[(e + 1) * N + f + 1] = A(1);
  }
  for (int i = 0; i < N; ++i) mask[i] = true;
}

// input -> layers -> output, padded to max_layers + 2 nodes.
template <typename A>
FR_HD void chain(const int* layers, int length, int max_layers, int64_t* ops, A* adj, bool* mask) {
  const int N = max_layers + 2;
  ops[0] = 0;
  for (int i = 0; i < length; ++i) ops[i + 1] = 2 + layers[i];
  ops[length + 1] = 1;
  for (int i = 0; i <= length; ++i) adj[i * N + i + 1] = A(1);
  for (int i = 0; i < N; ++i) mask[i] = i <= length + 1;
}

// NAS-Bench-Macro code: 8 layers, 3 choices each, most significant first.
template <typename A>
FR_HD void nasbench_macro(int64_t code, int64_t* ops, A* adj, bool* mask) {
  int layers[8];
  for (int i = 7; i >= 0; --i) {
    layers[i] = int(code % 3);
    code /= 3;
  }
  chain(layers, 8, 8, ops, adj, mask);
}

// TransNAS macro candidate `index` of `length` digits (1..4, lexicographic): writes the
// digits and says whether it is a network of the space (1-4 stride-2 stages, digits 3
// and 4; 1-3 channel doublings, digits 2 and 4).
FR_HD inline bool transnas_macro_digits(int length, int index, int* digits) {
  int downs = 0, ups = 0;
  for (int i = length - 1; i >= 0; --i) {
    digits[i] = 1 + index % 4;
    index /= 4;
  }
  for (int i = 0; i < length; ++i) {
    downs += digits[i] == 3 || digits[i] == 4;
    ups += digits[i] == 2 || digits[i] == 4;
  }
  return downs >= 1 && downs <= 4 && ups >= 1 && ups <= 3;
}

// The TransNAS macro network with this code (lengths 4, 5, 6 in turn), found by walking
// the candidates in order: no table, so a GPU thread can do it alone. Returns its length,
// or 0 when the code is past the end.
FR_HD inline int transnas_macro_network(int64_t code, int* digits) {
  int64_t seen = 0;
  for (int length = 4; length <= 6; ++length) {
    const int total = 1 << (2 * length);
    for (int index = 0; index < total; ++index)
      if (transnas_macro_digits(length, index, digits) && seen++ == code) return length;
  }
  return 0;
}

}  // namespace fastrank
