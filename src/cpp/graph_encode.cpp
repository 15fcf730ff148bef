// Batched graph encoding of enumerable search spaces: architecture codes -> operations on
// nodes + dense adjacency + node mask, the input of the graph encoders. Layouts match
// fastrank.spaces (cell.py, chain.py) exactly; the tests compare them.
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "graph_layouts.h"
#include "kernels.h"
#include "parallel.h"

namespace fastrank {
namespace {

// The TransNAS macro networks in code order: lengths 4, 5, 6, digits 1..4 in
// lexicographic order, with 1-4 stride-2 stages (3, 4) and 1-3 channel doublings (2, 4).
const std::vector<std::array<int, 7>>& transnas_macro_table() {
  static const std::vector<std::array<int, 7>> table = [] {
    std::vector<std::array<int, 7>> out;
    for (int length = 4; length <= 6; ++length) {
      int total = 1;
      for (int i = 0; i < length; ++i) total *= 4;
      for (int index = 0; index < total; ++index) {
        std::array<int, 7> a{};
        a[0] = length;
        if (transnas_macro_digits(length, index, &a[1])) out.push_back(a);
      }
    }
    return out;
  }();
  return table;
}

template <typename A>
int encode(GraphSpace space, const int64_t* codes, int64_t n, int64_t* ops, A* adj, bool* mask) {
  const int64_t N = graph_space_nodes(space);
  const int64_t size = graph_space_size(space);
  for (int64_t b = 0; b < n; ++b)
    if (codes[b] < 0 || codes[b] >= size) return kBadCodes;
  std::memset(adj, 0, sizeof(A) * size_t(n * N * N));
  std::memset(ops, 0, sizeof(int64_t) * size_t(n * N));
  parallel_tasks(n, double(n) * double(N * N), [&](int64_t b, int) {
    int64_t* o = ops + b * N;
    A* a = adj + b * N * N;
    bool* m = mask + b * N;
    switch (space) {
      case GraphSpace::kNB201: edge_cell(codes[b], 5, o, a, m); break;
      case GraphSpace::kTransNASMicro: edge_cell(codes[b], 4, o, a, m); break;
      case GraphSpace::kNASBenchMacro: nasbench_macro(codes[b], o, a, m); break;
      case GraphSpace::kTransNASMacro: {
        const auto& row = transnas_macro_table()[size_t(codes[b])];
        int layers[6];
        for (int i = 0; i < row[0]; ++i) layers[i] = row[i + 1] - 1;
        chain(layers, row[0], 6, o, a, m);
        break;
      }
    }
  });
  return kOk;
}

}  // namespace

int64_t graph_space_nodes(GraphSpace space) {
  switch (space) {
    case GraphSpace::kNB201:
    case GraphSpace::kTransNASMicro: return 8;
    case GraphSpace::kNASBenchMacro: return 10;
    case GraphSpace::kTransNASMacro: return 8;
  }
  return 0;
}

int64_t graph_space_size(GraphSpace space) {
  switch (space) {
    case GraphSpace::kNB201: return 15625;
    case GraphSpace::kTransNASMicro: return 4096;
    case GraphSpace::kNASBenchMacro: return 6561;
    case GraphSpace::kTransNASMacro: return int64_t(transnas_macro_table().size());
  }
  return 0;
}

int encode_graphs_cpu(GraphSpace space, DType dtype, const int64_t* codes, int64_t n, int64_t* ops, void* adj,
                      bool* mask) {
  return dtype == DType::kFloat64 ? encode(space, codes, n, ops, static_cast<double*>(adj), mask)
                                  : encode(space, codes, n, ops, static_cast<float*>(adj), mask);
}

}  // namespace fastrank
