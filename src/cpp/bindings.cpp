// pybind11 module fastrank._C. No torch headers: tensors arrive as data pointers (ints)
// that Python has checked, so one binary serves every torch version.
#include <pybind11/pybind11.h>

#include "kernels.h"
#include "parallel.h"

namespace py = pybind11;
using namespace fastrank;

namespace {

template <typename T>
T* ptr(uintptr_t address) { return reinterpret_cast<T*>(address); }

void fill_lists(ListArgs& a, int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets, int64_t n_lists,
                int64_t n_items, int reduction, uintptr_t out, uintptr_t grad) {
  if (dtype != 0 && dtype != 1) throw py::value_error("dtype tag must be 0 (float32) or 1 (float64)");
  if (n_lists < 0 || n_items < 0) throw py::value_error("n_lists and n_items must be non-negative");
  if (reduction < 0 || reduction > 2) throw py::value_error("reduction tag must be 0 (none), 1 (sum) or 2 (mean)");
  a.dtype = static_cast<DType>(dtype);
  a.scores = ptr<const void>(scores);
  a.targets = ptr<const void>(targets);
  a.offsets = ptr<const int64_t>(offsets);
  a.n_lists = n_lists;
  a.n_items = n_items;
  a.reduction = static_cast<Reduction>(reduction);
  a.out = ptr<void>(out);
  a.grad = ptr<void>(grad);
}

GcnArgs gcn_args(int dtype, int64_t batch, int64_t nodes, int64_t features, bool relu) {
  if (dtype != 0 && dtype != 1) throw py::value_error("dtype tag must be 0 (float32) or 1 (float64)");
  if (batch < 0 || nodes < 0 || features < 0) throw py::value_error("sizes must be non-negative");
  GcnArgs a;
  a.dtype = static_cast<DType>(dtype);
  a.batch = batch;
  a.nodes = nodes;
  a.features = features;
  a.relu = relu;
  return a;
}

GraphSpace check_space(int space) {
  if (space < 0 || space > 3) throw py::value_error("graph space tag must be 0..3");
  return static_cast<GraphSpace>(space);
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "fastrank native kernels (raw-pointer interface; use fastrank's Python API)";
  m.attr("STATUS_NONFINITE_SCORES") = int(kNonFiniteScores);
  m.attr("STATUS_NONFINITE_TARGETS") = int(kNonFiniteTargets);
  m.attr("STATUS_GAIN_OVERFLOW") = int(kGainOverflow);
  m.attr("STATUS_BAD_OFFSETS") = int(kBadOffsets);
  m.attr("has_cuda") = false;

  m.def("num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));

  m.def(
      "pairwise_hinge_cpu",
      [](int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets, int64_t n_lists, int64_t n_items, int reduction, double margin,
         bool squared, bool weighted, int rank_weight, uintptr_t out, uintptr_t grad) {
        if (rank_weight < 0 || rank_weight > 2) throw py::value_error("rank_weight tag must be 0, 1 or 2");
        PairwiseHingeArgs a;
        fill_lists(a, dtype, scores, targets, offsets, n_lists, n_items, reduction, out, grad);
        a.margin = margin;
        a.squared = squared;
        a.weighted = weighted;
        a.rank_weight = static_cast<RankWeight>(rank_weight);
        py::gil_scoped_release release;
        return pairwise_hinge_cpu(a);
      },
      py::arg("dtype"), py::arg("scores"), py::arg("targets"), py::arg("offsets"), py::arg("n_lists"), py::arg("n_items"), py::arg("reduction"),
      py::arg("margin"), py::arg("squared"), py::arg("weighted"), py::arg("rank_weight"), py::arg("out"),
      py::arg("grad"));

  m.attr("STATUS_BAD_CODES") = int(kBadCodes);
  m.def("graph_space_nodes", [](int space) { return graph_space_nodes(check_space(space)); });
  m.def("graph_space_size", [](int space) { return graph_space_size(check_space(space)); });
  m.def(
      "encode_graphs_cpu",
      [](int space, int dtype, uintptr_t codes, int64_t n, uintptr_t ops, uintptr_t adj, uintptr_t mask) {
        if (dtype != 0 && dtype != 1) throw py::value_error("dtype tag must be 0 (float32) or 1 (float64)");
        if (n < 0) throw py::value_error("n must be non-negative");
        const GraphSpace s = check_space(space);
        py::gil_scoped_release release;
        return encode_graphs_cpu(s, static_cast<DType>(dtype), ptr<const int64_t>(codes), n, ptr<int64_t>(ops),
                                 ptr<void>(adj), ptr<bool>(mask));
      },
      py::arg("space"), py::arg("dtype"), py::arg("codes"), py::arg("n"), py::arg("ops"), py::arg("adj"),
      py::arg("mask"));

  m.attr("STATUS_BAD_SHAPE") = int(kBadShape);
  m.attr("STATUS_BAD_ADJACENCY") = int(kBadAdjacency);
  m.attr("GCN_MAX_NODES") = gcn_max_nodes();
  m.def(
      "gcn_propagate_cpu",
      [](int dtype, int64_t batch, int64_t nodes, int64_t features, bool relu, uintptr_t h, uintptr_t adj,
         uintptr_t out) {
        GcnArgs a = gcn_args(dtype, batch, nodes, features, relu);
        a.h = ptr<const void>(h);
        a.adj = ptr<const void>(adj);
        a.out = ptr<void>(out);
        py::gil_scoped_release release;
        return gcn_propagate_cpu(a);
      },
      py::arg("dtype"), py::arg("batch"), py::arg("nodes"), py::arg("features"), py::arg("relu"), py::arg("h"),
      py::arg("adj"), py::arg("out"));
  m.def(
      "gcn_propagate_backward_cpu",
      [](int dtype, int64_t batch, int64_t nodes, int64_t features, bool relu, uintptr_t d_out, uintptr_t adj,
         uintptr_t out, uintptr_t d_h) {
        GcnArgs a = gcn_args(dtype, batch, nodes, features, relu);
        a.d_out = ptr<const void>(d_out);
        a.adj = ptr<const void>(adj);
        a.out = ptr<void>(out);
        a.d_h = ptr<void>(d_h);
        py::gil_scoped_release release;
        return gcn_propagate_backward_cpu(a);
      },
      py::arg("dtype"), py::arg("batch"), py::arg("nodes"), py::arg("features"), py::arg("relu"), py::arg("d_out"),
      py::arg("adj"), py::arg("out"), py::arg("d_h"));

  m.def(
      "gcn_encoder_forward_cpu",
      [](int dtype, int64_t batch, int64_t nodes, int64_t features, int64_t layers, int64_t table_rows,
         bool mean_pool, uintptr_t table, uintptr_t ops, uintptr_t adj, uintptr_t mask, uintptr_t weight_t,
         uintptr_t bias, uintptr_t out) {
        GcnArgs shape = gcn_args(dtype, batch, nodes, features, false);
        if (layers < 0 || table_rows < 0) throw py::value_error("sizes must be non-negative");
        GcnEncoderArgs a;
        a.dtype = shape.dtype;
        a.batch = batch;
        a.nodes = nodes;
        a.features = features;
        a.layers = layers;
        a.table_rows = table_rows;
        a.mean_pool = mean_pool;
        a.table = ptr<const void>(table);
        a.ops = ptr<const int64_t>(ops);
        a.adj = ptr<const void>(adj);
        a.mask = ptr<const bool>(mask);
        a.weight_t = ptr<const void>(weight_t);
        a.bias = ptr<const void>(bias);
        a.out = ptr<void>(out);
        py::gil_scoped_release release;
        return gcn_encoder_forward_cpu(a);
      },
      py::arg("dtype"), py::arg("batch"), py::arg("nodes"), py::arg("features"), py::arg("layers"),
      py::arg("table_rows"), py::arg("mean_pool"), py::arg("table"), py::arg("ops"), py::arg("adj"), py::arg("mask"),
      py::arg("weight_t"), py::arg("bias"), py::arg("out"));

  m.def(
      "kendall_tau_b_cpu",
      [](int dtype, uintptr_t x, uintptr_t y, int64_t n) {
        if (dtype != 0 && dtype != 1) throw py::value_error("dtype tag must be 0 (float32) or 1 (float64)");
        if (n < 0) throw py::value_error("n must be non-negative");
        py::gil_scoped_release release;
        return kendall_tau_b_cpu(static_cast<DType>(dtype), ptr<const void>(x), ptr<const void>(y), n);
      },
      py::arg("dtype"), py::arg("x"), py::arg("y"), py::arg("n"));

  m.def(
      "pairwise_logistic_cpu",
      [](int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets, int64_t n_lists, int64_t n_items, int reduction, double sigma,
         uintptr_t out, uintptr_t grad) {
        PairwiseLogisticArgs a;
        fill_lists(a, dtype, scores, targets, offsets, n_lists, n_items, reduction, out, grad);
        a.sigma = sigma;
        py::gil_scoped_release release;
        return pairwise_logistic_cpu(a);
      },
      py::arg("dtype"), py::arg("scores"), py::arg("targets"), py::arg("offsets"), py::arg("n_lists"), py::arg("n_items"), py::arg("reduction"),
      py::arg("sigma"), py::arg("out"), py::arg("grad"));

  m.def(
      "lambdarank_cpu",
      [](int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets, int64_t n_lists, int64_t n_items, int reduction, int64_t k, int gain,
         int pair_loss, double sigma, double margin, uintptr_t out, uintptr_t grad) {
        if (gain != 0 && gain != 1) throw py::value_error("gain tag must be 0 (exp2) or 1 (linear)");
        if (pair_loss < 0 || pair_loss > 2) throw py::value_error("pair_loss tag must be 0, 1 or 2");
        LambdaRankArgs a;
        fill_lists(a, dtype, scores, targets, offsets, n_lists, n_items, reduction, out, grad);
        a.k = k;
        a.gain = static_cast<Gain>(gain);
        a.pair_loss = static_cast<PairLoss>(pair_loss);
        a.sigma = sigma;
        a.margin = margin;
        py::gil_scoped_release release;
        return lambdarank_cpu(a);
      },
      py::arg("dtype"), py::arg("scores"), py::arg("targets"), py::arg("offsets"), py::arg("n_lists"), py::arg("n_items"), py::arg("reduction"), py::arg("k"),
      py::arg("gain"), py::arg("pair_loss"), py::arg("sigma"), py::arg("margin"), py::arg("out"), py::arg("grad"));
}
