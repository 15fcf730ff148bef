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

void fill_lists(ListArgs& a, int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets,
                int64_t n_lists, uintptr_t list_loss, uintptr_t grad, uintptr_t list_pairs) {
  if (dtype != 0 && dtype != 1) throw py::value_error("dtype tag must be 0 (float32) or 1 (float64)");
  if (n_lists < 0) throw py::value_error("n_lists must be non-negative");
  a.dtype = static_cast<DType>(dtype);
  a.scores = ptr<const void>(scores);
  a.targets = ptr<const void>(targets);
  a.offsets = ptr<const int64_t>(offsets);
  a.n_lists = n_lists;
  a.list_loss = ptr<void>(list_loss);
  a.grad = ptr<void>(grad);
  a.list_pairs = ptr<void>(list_pairs);
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "fastrank native kernels (raw-pointer interface; use fastrank's Python API)";
  m.attr("STATUS_NONFINITE_SCORES") = int(kNonFiniteScores);
  m.attr("STATUS_NONFINITE_TARGETS") = int(kNonFiniteTargets);
  m.attr("STATUS_GAIN_OVERFLOW") = int(kGainOverflow);
  m.attr("has_cuda") = false;

  m.def("num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));

  m.def(
      "pairwise_hinge_cpu",
      [](int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets, int64_t n_lists, double margin,
         bool squared, bool weighted, uintptr_t list_loss, uintptr_t grad, uintptr_t list_pairs) {
        PairwiseHingeArgs a;
        fill_lists(a, dtype, scores, targets, offsets, n_lists, list_loss, grad, list_pairs);
        a.margin = margin;
        a.squared = squared;
        a.weighted = weighted;
        py::gil_scoped_release release;
        return pairwise_hinge_cpu(a);
      },
      py::arg("dtype"), py::arg("scores"), py::arg("targets"), py::arg("offsets"), py::arg("n_lists"),
      py::arg("margin"), py::arg("squared"), py::arg("weighted"), py::arg("list_loss"), py::arg("grad"),
      py::arg("list_pairs"));

  m.def(
      "pairwise_logistic_cpu",
      [](int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets, int64_t n_lists, double sigma,
         uintptr_t list_loss, uintptr_t grad, uintptr_t list_pairs) {
        PairwiseLogisticArgs a;
        fill_lists(a, dtype, scores, targets, offsets, n_lists, list_loss, grad, list_pairs);
        a.sigma = sigma;
        py::gil_scoped_release release;
        return pairwise_logistic_cpu(a);
      },
      py::arg("dtype"), py::arg("scores"), py::arg("targets"), py::arg("offsets"), py::arg("n_lists"),
      py::arg("sigma"), py::arg("list_loss"), py::arg("grad"), py::arg("list_pairs"));

  m.def(
      "lambdarank_cpu",
      [](int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets, int64_t n_lists, int64_t k, int gain,
         int pair_loss, double sigma, double margin, uintptr_t list_loss, uintptr_t grad, uintptr_t list_pairs) {
        if (gain != 0 && gain != 1) throw py::value_error("gain tag must be 0 (exp2) or 1 (linear)");
        if (pair_loss < 0 || pair_loss > 2) throw py::value_error("pair_loss tag must be 0, 1 or 2");
        LambdaRankArgs a;
        fill_lists(a, dtype, scores, targets, offsets, n_lists, list_loss, grad, list_pairs);
        a.k = k;
        a.gain = static_cast<Gain>(gain);
        a.pair_loss = static_cast<PairLoss>(pair_loss);
        a.sigma = sigma;
        a.margin = margin;
        py::gil_scoped_release release;
        return lambdarank_cpu(a);
      },
      py::arg("dtype"), py::arg("scores"), py::arg("targets"), py::arg("offsets"), py::arg("n_lists"), py::arg("k"),
      py::arg("gain"), py::arg("pair_loss"), py::arg("sigma"), py::arg("margin"), py::arg("list_loss"),
      py::arg("grad"), py::arg("list_pairs"));
}
