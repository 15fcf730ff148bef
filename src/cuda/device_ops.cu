// The CUDA build of every device algorithm (device_api.h).
#include "cuda_exec.cuh"
#include "device_api.h"
#include "graph_device.h"
#include "hinge_sweep_device.h"
#include "kendall_device.h"
#include "lambdarank_topk_device.h"
#include "list_device.h"

namespace fastrank {
namespace device {

#define FASTRANK_DEFINE_CUDA_OP(NAME, ARGS) FASTRANK_DEFINE_DEVICE_OP(NAME, ARGS, cuda, CudaExec)
FASTRANK_DEVICE_OPS(FASTRANK_DEFINE_CUDA_OP)

namespace {
struct Probe {
  __device__ void operator()(int64_t) const {}
};
}  // namespace

int cuda_probe() {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaSuccess && count == 0) e = cudaErrorNoDevice;
  if (e == cudaSuccess) {
    // Fails with cudaErrorInvalidDeviceFunction (or NoKernelImageForDevice) when the
    // current device's architecture is in neither the compiled SASS nor the PTX.
    cudaFuncAttributes attributes;
    e = cudaFuncGetAttributes(&attributes, for_each_kernel<Probe>);
  }
  cudaGetLastError();  // a failed probe must not leave a sticky error for the next call
  return int(e);
}

const char* cuda_error_string(int code) { return cudaGetErrorString(static_cast<cudaError_t>(code)); }

}  // namespace device
}  // namespace fastrank
