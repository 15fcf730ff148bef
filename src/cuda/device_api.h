// Entry points of the device algorithms, each in two builds of one source: `NAME_cuda`
// (kernels on a CUDA stream; only with FASTRANK_WITH_CUDA) and `NAME_twin` (the same
// item functions as host loops). Each returns kDeviceOk, kWorkspaceTooSmall or a CUDA
// error code; called with call.workspace == nullptr it only sets call.workspace_bytes.
// Data errors (non-finite values, bad codes) are OR-ed into *call.status.
#pragma once

#include "device_common.h"

namespace fastrank {
namespace device {

struct EncodeArgs {
  GraphSpace space = GraphSpace::kNB201;
  DType dtype = DType::kFloat32;  // of the adjacency
  int64_t space_size = 0;         // codes of the space (host-computed)
  int64_t nodes = 0;
  const int64_t* codes = nullptr;
  int64_t n = 0;
  int64_t* ops = nullptr;  // (n, nodes)
  void* adj = nullptr;     // (n, nodes, nodes)
  bool* mask = nullptr;    // (n, nodes)
};

struct KendallArgs {
  DType dtype = DType::kFloat32;
  const void* x = nullptr;
  const void* y = nullptr;
  int64_t n = 0;
  double* out = nullptr;  // one value, in the op's memory space
};

// The O(n log n) hinge (hinge_sweep_device.h) takes the longest list's length: it sizes
// the WARP weights' table and bounds the passes where the levels cannot be read back (a
// CUDA graph capture). A longer list is reported as bad offsets.
struct HingeSweepArgs : PairwiseHingeArgs {
  int64_t longest = 0;
};

// LambdaRank truncated at k > 0 on long lists (lambdarank_topk_device.h); `longest` (the
// longest list's length) sizes its scratch. A longer list is reported as bad offsets.
struct LambdaRankTopArgs : LambdaRankArgs {
  int64_t longest = 0;
};

#define FASTRANK_DEVICE_OPS(X)                 \
  X(pairwise_hinge, PairwiseHingeArgs)         \
  X(pairwise_hinge_sweep, HingeSweepArgs)      \
  X(pairwise_logistic, PairwiseLogisticArgs)   \
  X(lambdarank, LambdaRankArgs)                \
  X(lambdarank_topk, LambdaRankTopArgs)        \
  X(encode_graphs, EncodeArgs)                 \
  X(gcn_propagate, GcnArgs)                    \
  X(gcn_propagate_backward, GcnArgs)           \
  X(kendall_tau_b, KendallArgs)                \
  X(kendall_tau_b_sweep, KendallArgs)

#define FASTRANK_DECLARE_DEVICE_OP(NAME, ARGS) \
  int NAME##_twin(const ARGS& args, DeviceCall& call); \
  int NAME##_cuda(const ARGS& args, DeviceCall& call);
FASTRANK_DEVICE_OPS(FASTRANK_DECLARE_DEVICE_OP)
#undef FASTRANK_DECLARE_DEVICE_OP

// One definition per op and executor, dispatching on the dtype (NAME_run<T> in the
// algorithm headers).
#define FASTRANK_DEFINE_DEVICE_OP(NAME, ARGS, SUFFIX, EXEC)                                            \
  int NAME##_##SUFFIX(const ARGS& args, DeviceCall& call) {                                            \
    const EXEC ex(call.stream);                                                                        \
    return args.dtype == DType::kFloat64 ? NAME##_run<double>(ex, args, call)                          \
                                         : NAME##_run<float>(ex, args, call);                          \
  }

// 0 when the CUDA runtime finds a device that these kernels have code for, else the
// CUDA error code (no driver, no device, no kernel image for the device's architecture).
int cuda_probe();
const char* cuda_error_string(int code);

}  // namespace device
}  // namespace fastrank
