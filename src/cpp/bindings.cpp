// pybind11 module fastrank._C. No torch headers: tensors arrive as data pointers (ints)
// that Python has checked, so one binary serves every torch version.
//
// Each op is bound twice from one argument builder: NAME_cpu(args...) runs the C++ kernel;
// NAME_device(backend, args..., workspace, workspace_bytes, status, stream) runs the device
// algorithm on CUDA (backend 1) or its host twin (backend 0). With workspace == 0 it
// returns the workspace bytes the call needs; otherwise 0 or an error code.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cctype>
#include <string>
#include <vector>

#include "cpu_targets.h"
#include "device_api.h"
#include "kernels.h"
#include "lists.h"
#include "parallel.h"

namespace py = pybind11;
using namespace fastrank;
using device::DeviceCall;

namespace {

template <typename T>
T* ptr(uintptr_t address) { return reinterpret_cast<T*>(address); }

// "0 (none), 1 (sum) or 2 (mean)": a tag's values, as its range error lists them (Python's raw-op
// checks word it the same way).
template <typename E>
std::string tag_values() {
  std::string text;
  for (int v = 0; v < TagNames<E>::count; ++v) {
    if (v > 0) text += v + 1 == TagNames<E>::count ? " or " : ", ";
    text += std::to_string(v) + " (" + TagNames<E>::names[v] + ")";
  }
  return text;
}

// The enum value of a tag int that Python passed, which must be one of the tag's values.
template <typename E>
E to_tag(int value) {
  if (value < 0 || value >= TagNames<E>::count)
    throw py::value_error(std::string(TagNames<E>::option) + " tag must be " + tag_values<E>());
  return static_cast<E>(value);
}

// {name: value} of a tag, and _C.TAGS: {option: that table} for each tag enum.
template <typename E>
py::dict tag_table() {
  py::dict table;
  for (int v = 0; v < TagNames<E>::count; ++v) table[TagNames<E>::names[v]] = v;
  return table;
}

template <typename... Tags>
py::dict tag_tables() {
  py::dict tables;
  ((tables[TagNames<Tags>::option] = tag_table<Tags>()), ...);
  return tables;
}

// The GCN predictor's sizes and buffer addresses, named (GcnPredictorArgs without the
// parameter lists, which are per call).
struct PredictorShape {
  int dtype;
  int64_t batch, nodes, features, layers, hidden, table_rows, outputs;
  bool mean_pool;
};
struct PredictorBuffers {
  uintptr_t ops, adj, mask, activations, pooled, head_hidden, scores, d_scores;
};

GcnPredictorArgs predictor_args(const PredictorShape& shape, const PredictorBuffers& buffers,
                                const std::vector<uintptr_t>& params, const std::vector<uintptr_t>& grads) {
  GcnPredictorArgs a;
  a.dtype = to_tag<DType>(shape.dtype);
  for (int64_t size : {shape.batch, shape.nodes, shape.features, shape.layers, shape.hidden, shape.table_rows,
                       shape.outputs})
    if (size < 0) throw py::value_error("sizes must be non-negative");
  a.batch = shape.batch;
  a.nodes = shape.nodes;
  a.features = shape.features;
  a.layers = shape.layers;
  a.hidden = shape.hidden;
  a.table_rows = shape.table_rows;
  a.mean_pool = shape.mean_pool;
  a.outputs = shape.outputs;
  const size_t expected = size_t(2 * a.layers + 5);
  if (params.size() != expected || (!grads.empty() && grads.size() != expected))
    throw py::value_error("predictor: expected " + std::to_string(expected) + " parameter addresses");
  a.ops = ptr<const int64_t>(buffers.ops);
  a.adj = ptr<const void>(buffers.adj);
  a.mask = ptr<const bool>(buffers.mask);
  a.activations = ptr<void>(buffers.activations);
  a.pooled = ptr<void>(buffers.pooled);
  a.head_hidden = ptr<void>(buffers.head_hidden);
  a.scores = ptr<void>(buffers.scores);
  a.d_scores = ptr<const void>(buffers.d_scores);
  return a;
}

void fill_lists(ListArgs& a, int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets, int64_t n_lists,
                int64_t n_items, int reduction, uintptr_t out, uintptr_t grad) {
  if (n_lists < 0 || n_items < 0) throw py::value_error("n_lists and n_items must be non-negative");
  a.dtype = to_tag<DType>(dtype);
  a.scores = ptr<const void>(scores);
  a.targets = ptr<const void>(targets);
  a.offsets = ptr<const int64_t>(offsets);
  a.n_lists = n_lists;
  a.n_items = n_items;
  a.reduction = to_tag<Reduction>(reduction);
  a.out = ptr<void>(out);
  a.grad = ptr<void>(grad);
}

PairwiseHingeArgs hinge_args(int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets, int64_t n_lists,
                             int64_t n_items, int reduction, double margin, bool squared, bool weighted,
                             int rank_weight, uintptr_t out, uintptr_t grad) {
  PairwiseHingeArgs a;
  fill_lists(a, dtype, scores, targets, offsets, n_lists, n_items, reduction, out, grad);
  a.margin = margin;
  a.squared = squared;
  a.weighted = weighted;
  a.rank_weight = to_tag<RankWeight>(rank_weight);
  return a;
}

device::HingeSweepArgs hinge_sweep_args(int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets,
                                        int64_t n_lists, int64_t n_items, int reduction, double margin, bool squared,
                                        bool weighted, int rank_weight, uintptr_t out, uintptr_t grad,
                                        int64_t longest) {
  if (longest < 0) throw py::value_error("longest must be non-negative");
  device::HingeSweepArgs a;
  static_cast<PairwiseHingeArgs&>(a) = hinge_args(dtype, scores, targets, offsets, n_lists, n_items, reduction, margin,
                                                  squared, weighted, rank_weight, out, grad);
  a.longest = longest;
  return a;
}

PairwiseLogisticArgs logistic_args(int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets,
                                   int64_t n_lists, int64_t n_items, int reduction, double sigma, uintptr_t out,
                                   uintptr_t grad) {
  PairwiseLogisticArgs a;
  fill_lists(a, dtype, scores, targets, offsets, n_lists, n_items, reduction, out, grad);
  a.sigma = sigma;
  return a;
}

LambdaRankArgs lambdarank_args(int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets, int64_t n_lists,
                               int64_t n_items, int reduction, int64_t k, int gain, int pair_loss, double sigma,
                               double margin, uintptr_t out, uintptr_t grad) {
  LambdaRankArgs a;
  fill_lists(a, dtype, scores, targets, offsets, n_lists, n_items, reduction, out, grad);
  a.k = k;
  a.gain = to_tag<Gain>(gain);
  a.pair_loss = to_tag<PairLoss>(pair_loss);
  a.sigma = sigma;
  a.margin = margin;
  return a;
}

device::LambdaRankTopArgs lambdarank_topk_args(int dtype, uintptr_t scores, uintptr_t targets, uintptr_t offsets,
                                               int64_t n_lists, int64_t n_items, int reduction, int64_t k, int gain,
                                               int pair_loss, double sigma, double margin, uintptr_t out,
                                               uintptr_t grad, int64_t longest) {
  if (k < 1) throw py::value_error("lambdarank_topk needs k >= 1");
  if (longest < 0) throw py::value_error("longest must be non-negative");
  device::LambdaRankTopArgs a;
  static_cast<LambdaRankArgs&>(a) = lambdarank_args(dtype, scores, targets, offsets, n_lists, n_items, reduction, k,
                                                    gain, pair_loss, sigma, margin, out, grad);
  a.longest = longest;
  return a;
}

GcnArgs gcn_shape(int dtype, int64_t batch, int64_t nodes, int64_t features, bool relu) {
  if (batch < 0 || nodes < 0 || features < 0) throw py::value_error("sizes must be non-negative");
  GcnArgs a;
  a.dtype = to_tag<DType>(dtype);
  a.batch = batch;
  a.nodes = nodes;
  a.features = features;
  a.relu = relu;
  return a;
}

GcnArgs gcn_forward_args(int dtype, int64_t batch, int64_t nodes, int64_t features, bool relu, uintptr_t h,
                         uintptr_t adj, uintptr_t out) {
  GcnArgs a = gcn_shape(dtype, batch, nodes, features, relu);
  a.h = ptr<const void>(h);
  a.adj = ptr<const void>(adj);
  a.out = ptr<void>(out);
  return a;
}

GcnArgs gcn_backward_args(int dtype, int64_t batch, int64_t nodes, int64_t features, bool relu, uintptr_t d_out,
                          uintptr_t adj, uintptr_t out, uintptr_t d_h) {
  GcnArgs a = gcn_shape(dtype, batch, nodes, features, relu);
  a.d_out = ptr<const void>(d_out);
  a.adj = ptr<const void>(adj);
  a.out = ptr<void>(out);
  a.d_h = ptr<void>(d_h);
  return a;
}

device::EncodeArgs encode_args(int space, int dtype, uintptr_t codes, int64_t n, uintptr_t ops, uintptr_t adj,
                               uintptr_t mask) {
  if (n < 0) throw py::value_error("n must be non-negative");
  device::EncodeArgs a;
  a.space = to_tag<GraphSpace>(space);
  a.dtype = to_tag<DType>(dtype);
  a.space_size = graph_space_size(a.space);
  a.nodes = graph_space_nodes(a.space);
  a.codes = ptr<const int64_t>(codes);
  a.n = n;
  a.ops = ptr<int64_t>(ops);
  a.adj = ptr<void>(adj);
  a.mask = ptr<bool>(mask);
  return a;
}

int encode_graphs(const device::EncodeArgs& a) {
  return encode_graphs_cpu(a.space, a.dtype, a.codes, a.n, a.ops, a.adj, a.mask);
}

device::KendallArgs kendall_args(int dtype, uintptr_t x, uintptr_t y, int64_t n, uintptr_t out) {
  if (n < 0) throw py::value_error("n must be non-negative");
  device::KendallArgs a;
  a.dtype = to_tag<DType>(dtype);
  a.x = ptr<const void>(x);
  a.y = ptr<const void>(y);
  a.n = n;
  a.out = ptr<double>(out);
  return a;
}

template <typename Args>
using DeviceFn = int (*)(const Args&, DeviceCall&);

// NAME_device: the size query or the run of one op on a backend.
template <typename Args, typename... Ts>
void def_device(py::module_& m, const std::string& name, Args (*build)(Ts...), DeviceFn<Args> twin,
                DeviceFn<Args> cuda) {
  m.def((name + "_device").c_str(),
        [build, twin, cuda](int backend, Ts... xs, uintptr_t workspace, size_t workspace_bytes, uintptr_t status,
                            intptr_t stream) -> int64_t {
          if (backend != 0 && backend != 1) throw py::value_error("backend must be 0 (host twin) or 1 (CUDA)");
          const Args a = build(xs...);
          DeviceFn<Args> run = backend == 1 ? cuda : twin;
          if (run == nullptr) return device::kBuiltWithoutCuda;
          DeviceCall call;
          call.workspace = ptr<void>(workspace);
          call.workspace_bytes = workspace_bytes;
          call.status = ptr<int>(status);
          call.stream = stream;
          int code;
          {
            py::gil_scoped_release release;
            code = run(a, call);
          }
          return workspace == 0 && code == device::kDeviceOk ? int64_t(call.workspace_bytes) : int64_t(code);
        });
}

// NAME_cpu: the C++ kernel, returning its status word.
template <typename Args, typename... Ts>
void def_cpu(py::module_& m, const std::string& name, Args (*build)(Ts...), int (*cpu)(const Args&)) {
  m.def((name + "_cpu").c_str(), [build, cpu](Ts... xs) {
    const Args a = build(xs...);
    py::gil_scoped_release release;
    return cpu(a);
  });
}

#ifdef FASTRANK_WITH_CUDA
#define FASTRANK_CUDA_FN(NAME) &device::NAME##_cuda
#else
// typed, so that def_device deduces Args from the twin alone
#define FASTRANK_CUDA_FN(NAME) static_cast<decltype(&device::NAME##_twin)>(nullptr)
#endif

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "fastrank native kernels (raw-pointer interface; use fastrank's Python API)";
  // The tags and status bits of kernels.h, which Python reads instead of writing numbers.
  m.attr("TAGS") = tag_tables<DType, Reduction, RankWeight, Gain, PairLoss, GraphSpace>();
  py::dict status, status_messages;  // by key, in the order Python reports them
  for (const StatusBit& s : kStatusBits) {
    status[s.key] = int(s.bit);
    status_messages[s.key] = s.message;
    std::string attr = std::string("STATUS_") + s.key;  // each bit also alone (STATUS_BAD_OFFSETS), as tests read it
    for (char& c : attr) c = char(std::toupper(static_cast<unsigned char>(c)));
    m.attr(attr.c_str()) = int(s.bit);
  }
  m.attr("STATUS") = status;
  m.attr("STATUS_MESSAGES") = status_messages;
  m.attr("GCN_MAX_NODES") = gcn_max_nodes();
  m.attr("DEVICE_WORKSPACE_TOO_SMALL") = device::kWorkspaceTooSmall;
  m.attr("DEVICE_BUILT_WITHOUT_CUDA") = device::kBuiltWithoutCuda;
  m.attr("TWIN_AS_IF_CAPTURED") = int64_t(device::kTwinAsIfCaptured);
#ifdef FASTRANK_WITH_CUDA
  m.attr("has_cuda") = true;
  m.def("cuda_probe", &device::cuda_probe);
  m.def("cuda_error_string", [](int code) { return std::string(device::cuda_error_string(code)); });
#else
  m.attr("has_cuda") = false;
#endif

  // CPU vector targets by name; Python validates the names.
  m.def("cpu_target", [] { return std::string(cpu_target_name(cpu_target())); });
  m.def("cpu_targets_usable", [] {
    std::vector<std::string> names;
    for (CpuTarget t : kCpuTargets)
      if (cpu_target_usable(t)) names.emplace_back(cpu_target_name(t));
    return names;
  });
  m.def("set_cpu_target", [](const std::string& name) {
    for (CpuTarget t : kCpuTargets)
      if (name == cpu_target_name(t)) return set_cpu_target(t);
    return false;
  }, py::arg("name"));
  m.def("num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));

  def_cpu(m, "pairwise_hinge", &hinge_args, &pairwise_hinge_cpu);
  def_device(m, "pairwise_hinge", &hinge_args, &device::pairwise_hinge_twin, FASTRANK_CUDA_FN(pairwise_hinge));
  def_device(m, "pairwise_hinge_sweep", &hinge_sweep_args, &device::pairwise_hinge_sweep_twin,
             FASTRANK_CUDA_FN(pairwise_hinge_sweep));
  def_cpu(m, "pairwise_logistic", &logistic_args, &pairwise_logistic_cpu);
  def_device(m, "pairwise_logistic", &logistic_args, &device::pairwise_logistic_twin,
             FASTRANK_CUDA_FN(pairwise_logistic));
  def_cpu(m, "lambdarank", &lambdarank_args, &lambdarank_cpu);
  def_device(m, "lambdarank", &lambdarank_args, &device::lambdarank_twin, FASTRANK_CUDA_FN(lambdarank));
  def_device(m, "lambdarank_topk", &lambdarank_topk_args, &device::lambdarank_topk_twin,
             FASTRANK_CUDA_FN(lambdarank_topk));

  m.def("graph_space_nodes", [](int space) { return graph_space_nodes(to_tag<GraphSpace>(space)); });
  m.def("graph_space_size", [](int space) { return graph_space_size(to_tag<GraphSpace>(space)); });
  def_cpu(m, "encode_graphs", &encode_args, &encode_graphs);
  def_device(m, "encode_graphs", &encode_args, &device::encode_graphs_twin, FASTRANK_CUDA_FN(encode_graphs));

  def_cpu(m, "gcn_propagate", &gcn_forward_args, &gcn_propagate_cpu);
  def_device(m, "gcn_propagate", &gcn_forward_args, &device::gcn_propagate_twin, FASTRANK_CUDA_FN(gcn_propagate));
  def_cpu(m, "gcn_propagate_backward", &gcn_backward_args, &gcn_propagate_backward_cpu);
  def_device(m, "gcn_propagate_backward", &gcn_backward_args, &device::gcn_propagate_backward_twin,
             FASTRANK_CUDA_FN(gcn_propagate_backward));

  m.def(
      "gcn_encoder_forward_cpu",
      [](int dtype, int64_t batch, int64_t nodes, int64_t features, int64_t layers, int64_t table_rows,
         bool mean_pool, uintptr_t table, uintptr_t ops, uintptr_t adj, uintptr_t mask, uintptr_t weight_t,
         uintptr_t bias, uintptr_t out) {
        const GcnArgs shape = gcn_shape(dtype, batch, nodes, features, false);
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
      });

  // The predictor's training passes, by field name: the sizes (PredictorShape) and the buffers'
  // addresses (PredictorBuffers, 0 for one a pass does not use); params / grads in the
  // module's parameter order (2·layers + 5 addresses).
  py::class_<PredictorShape>(m, "PredictorShape")
      .def(py::init([](int dtype, int64_t batch, int64_t nodes, int64_t features, int64_t layers, int64_t hidden,
                       int64_t table_rows, int64_t outputs, bool mean_pool) {
             return PredictorShape{dtype, batch, nodes, features, layers, hidden, table_rows, outputs, mean_pool};
           }),
           py::kw_only(), py::arg("dtype"), py::arg("batch"), py::arg("nodes"), py::arg("features"), py::arg("layers"),
           py::arg("hidden"), py::arg("table_rows"), py::arg("outputs"), py::arg("mean_pool"))
      .def_readonly("dtype", &PredictorShape::dtype)
      .def_readonly("batch", &PredictorShape::batch)
      .def_readonly("nodes", &PredictorShape::nodes)
      .def_readonly("features", &PredictorShape::features)
      .def_readonly("layers", &PredictorShape::layers)
      .def_readonly("hidden", &PredictorShape::hidden)
      .def_readonly("table_rows", &PredictorShape::table_rows)
      .def_readonly("outputs", &PredictorShape::outputs)
      .def_readonly("mean_pool", &PredictorShape::mean_pool);
  py::class_<PredictorBuffers>(m, "PredictorBuffers")
      .def(py::init([](uintptr_t ops, uintptr_t adj, uintptr_t mask, uintptr_t activations, uintptr_t pooled,
                       uintptr_t head_hidden, uintptr_t scores, uintptr_t d_scores) {
             return PredictorBuffers{ops, adj, mask, activations, pooled, head_hidden, scores, d_scores};
           }),
           py::kw_only(), py::arg("ops"), py::arg("adj"), py::arg("mask"), py::arg("activations"), py::arg("pooled"),
           py::arg("head_hidden"), py::arg("scores") = 0, py::arg("d_scores") = 0);
  m.def("gcn_predictor_forward_cpu", [](const PredictorShape& shape, const PredictorBuffers& buffers,
                                        const std::vector<uintptr_t>& params) {
    GcnPredictorArgs a = predictor_args(shape, buffers, params, {});
    std::vector<const void*> p(params.size());
    for (size_t k = 0; k < params.size(); ++k) p[k] = ptr<const void>(params[k]);
    a.params = p.data();
    py::gil_scoped_release release;
    return gcn_predictor_forward_cpu(a);
  });
  m.def("gcn_predictor_backward_cpu", [](const PredictorShape& shape, const PredictorBuffers& buffers,
                                         const std::vector<uintptr_t>& params, const std::vector<uintptr_t>& grads) {
    GcnPredictorArgs a = predictor_args(shape, buffers, params, grads);
    std::vector<const void*> p(params.size());
    std::vector<void*> d(grads.size());
    for (size_t k = 0; k < params.size(); ++k) p[k] = ptr<const void>(params[k]);
    for (size_t k = 0; k < grads.size(); ++k) d[k] = ptr<void>(grads[k]);
    a.params = p.data();
    a.grads = d.data();
    py::gil_scoped_release release;
    return gcn_predictor_backward_cpu(a);
  });
  m.def("adam_step_cpu", [](int dtype, const std::vector<uintptr_t>& params, const std::vector<uintptr_t>& grads,
                            const std::vector<uintptr_t>& exp_avg, const std::vector<uintptr_t>& exp_avg_sq,
                            const std::vector<uintptr_t>& max_exp_avg_sq, const std::vector<int64_t>& numels,
                            const std::vector<uintptr_t>& steps, int step_dtype, double lr, double beta1, double beta2,
                            double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled) {
    const size_t count = params.size();
    if (grads.size() != count || exp_avg.size() != count || exp_avg_sq.size() != count || numels.size() != count ||
        steps.size() != count || (amsgrad && max_exp_avg_sq.size() != count))
      throw py::value_error("adam: params, grads, exp_avg, exp_avg_sq, numels and steps need one entry per tensor");
    for (int64_t n : numels)
      if (n < 0) throw py::value_error("adam: numels must be non-negative");
    AdamArgs a;
    a.dtype = to_tag<DType>(dtype);
    a.count = int64_t(count);
    std::vector<void*> p(count), m1(count), m2(count), st(count), mx(amsgrad ? count : 0);
    std::vector<const void*> g(count);
    for (size_t k = 0; k < count; ++k) {
      p[k] = ptr<void>(params[k]);
      g[k] = ptr<const void>(grads[k]);
      m1[k] = ptr<void>(exp_avg[k]);
      m2[k] = ptr<void>(exp_avg_sq[k]);
      st[k] = ptr<void>(steps[k]);
      if (amsgrad) mx[k] = ptr<void>(max_exp_avg_sq[k]);
    }
    a.params = p.data();
    a.grads = g.data();
    a.exp_avg = m1.data();
    a.exp_avg_sq = m2.data();
    a.max_exp_avg_sq = mx.data();
    a.amsgrad = amsgrad;
    a.maximize = maximize;
    a.decoupled_weight_decay = decoupled;
    a.numels = numels.data();
    a.steps = st.data();
    a.step_dtype = to_tag<DType>(step_dtype);
    a.lr = lr;
    a.beta1 = beta1;
    a.beta2 = beta2;
    a.eps = eps;
    a.weight_decay = weight_decay;
    py::gil_scoped_release release;
    adam_step_cpu(a);
  });

  // Finiteness of a contiguous CPU float tensor without a torch op per check (the loss zoo
  // validates every call's scores and targets: two torch reductions cost ~15 µs at n = 32).
  m.def("all_finite_cpu", [](int dtype, uintptr_t x, int64_t n) {
    if (n < 0) throw py::value_error("n must be non-negative");
    const DType t = to_tag<DType>(dtype);
    py::gil_scoped_release release;
    return t == DType::kFloat64 ? all_finite(ptr<const double>(x), n) : all_finite(ptr<const float>(x), n);
  });

  m.def("kendall_tau_b_cpu", [](int dtype, uintptr_t x, uintptr_t y, int64_t n) {
    const DType t = to_tag<DType>(dtype);
    if (n < 0) throw py::value_error("n must be non-negative");
    py::gil_scoped_release release;
    return kendall_tau_b_cpu(t, ptr<const void>(x), ptr<const void>(y), n);
  });
  def_device(m, "kendall_tau_b", &kendall_args, &device::kendall_tau_b_twin, FASTRANK_CUDA_FN(kendall_tau_b));
  def_device(m, "kendall_tau_b_sweep", &kendall_args, &device::kendall_tau_b_sweep_twin,
             FASTRANK_CUDA_FN(kendall_tau_b_sweep));
}
