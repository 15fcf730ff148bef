// The CUDA executor of the device algorithms: item functions become grid-stride kernels
// on the caller's stream, sums are CUB reductions in the caller's workspace. The first
// CUDA error stops further launches and is returned by error().
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_reduce.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_segmented_reduce.cuh>
#include <cuda/functional>
#include <cuda/std/functional>

#include "device_common.h"

namespace fastrank {
namespace device {

template <typename F>
__global__ void for_each_kernel(int64_t n, F f) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

struct AddValues {
  template <typename V>
  __host__ __device__ V operator()(const V& a, const V& b) const {
    return a + b;
  }
};

class CudaExec {
 public:
  explicit CudaExec(intptr_t stream) : stream_(reinterpret_cast<cudaStream_t>(stream)) {}

  template <typename F>
  void for_each(int64_t n, F f) const {
    if (n <= 0 || error_ != cudaSuccess) return;
    constexpr int kThreads = 256;
    // Enough blocks to fill any current GPU many times over; the grid-stride loop covers
    // larger n without a grid-size limit.
    const int64_t blocks = std::min<int64_t>((n + kThreads - 1) / kThreads, int64_t(1) << 16);
    for_each_kernel<<<unsigned(blocks), kThreads, 0, stream_>>>(n, f);
    note(cudaGetLastError());
  }

  // Scratch bytes for segmented_sum over n_segments lists and sum over up to
  // max(n_items, n_segments) values.
  size_t sum_temp_bytes(int64_t n_items, int64_t n_segments) const {
    size_t segmented = 0, whole = 0;
    if (n_segments > 0)
      note(cub::DeviceSegmentedReduce::Sum(nullptr, segmented, static_cast<const double*>(nullptr),
                                           static_cast<double*>(nullptr), n_segments,
                                           static_cast<const int64_t*>(nullptr), static_cast<const int64_t*>(nullptr),
                                           stream_));
    const int64_t longest = std::max<int64_t>(1, std::max(n_items, n_segments));
    note(cub::DeviceReduce::Sum(nullptr, whole, static_cast<const double*>(nullptr), static_cast<double*>(nullptr),
                                longest, stream_));
    return std::max(segmented, whole);
  }

  void segmented_sum(const double* in, const int64_t* offsets, int64_t n_segments, double* out, void* temp,
                     size_t temp_bytes) const {
    if (n_segments <= 0 || error_ != cudaSuccess) return;
    note(cub::DeviceSegmentedReduce::Sum(temp, temp_bytes, in, out, n_segments, offsets, offsets + 1, stream_));
  }

  void sum(const double* in, int64_t n, double* out, void* temp, size_t temp_bytes) const {
    if (error_ != cudaSuccess) return;
    if (n <= 0) {
      note(cudaMemsetAsync(out, 0, sizeof(double), stream_));  // +0.0 is all zero bits
      return;
    }
    note(cub::DeviceReduce::Sum(temp, temp_bytes, in, out, n, stream_));
  }

  // Scratch bytes of sort_pairs over n pairs sorted by end_bit key bits.
  size_t sort_temp_bytes(int64_t n, int end_bit) const {
    size_t bytes = 0;
    note(cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<const uint64_t*>(nullptr),
                                         static_cast<uint64_t*>(nullptr), static_cast<const int64_t*>(nullptr),
                                         static_cast<int64_t*>(nullptr), n, 0, end_bit, stream_));
    return bytes;
  }
  // Stable (CUB's radix sorts are) sort of (key, value) pairs by the key's low end_bit bits.
  void sort_pairs(const uint64_t* keys_in, uint64_t* keys_out, const int64_t* values_in, int64_t* values_out,
                  int64_t n, int end_bit, void* temp, size_t temp_bytes) const {
    if (n <= 0 || error_ != cudaSuccess) return;
    note(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys_in, keys_out, values_in, values_out, n, 0, end_bit,
                                         stream_));
  }

  template <typename V>
  size_t scan_by_key_temp_bytes(int64_t n) const {
    size_t bytes = 0;
    note(cub::DeviceScan::ExclusiveScanByKey(nullptr, bytes, static_cast<const uint64_t*>(nullptr),
                                             static_cast<const V*>(nullptr), static_cast<V*>(nullptr), AddValues{},
                                             V{}, n, ::cuda::std::equal_to<>{}, stream_));
    return bytes;
  }
  // out[i] = sum of in[j] over the j < i of i's run of equal keys.
  template <typename V>
  void exclusive_sum_by_key(const uint64_t* keys, const V* in, V* out, int64_t n, void* temp,
                            size_t temp_bytes) const {
    if (n <= 0 || error_ != cudaSuccess) return;
    note(cub::DeviceScan::ExclusiveScanByKey(temp, temp_bytes, keys, in, out, AddValues{}, V{}, n,
                                             ::cuda::std::equal_to<>{}, stream_));
  }

  template <typename V>
  size_t inclusive_sum_temp_bytes(int64_t n) const {
    size_t bytes = 0;
    note(cub::DeviceScan::InclusiveSum(nullptr, bytes, static_cast<const V*>(nullptr), static_cast<V*>(nullptr), n,
                                       stream_));
    return bytes;
  }
  template <typename V>
  void inclusive_sum(const V* in, V* out, int64_t n, void* temp, size_t temp_bytes) const {
    if (n <= 0 || error_ != cudaSuccess) return;
    note(cub::DeviceScan::InclusiveSum(temp, temp_bytes, in, out, n, stream_));
  }

  size_t running_max_temp_bytes(int64_t n) const {
    size_t bytes = 0;
    note(cub::DeviceScan::InclusiveScan(nullptr, bytes, static_cast<const int64_t*>(nullptr),
                                        static_cast<int64_t*>(nullptr), ::cuda::maximum<>{}, std::max<int64_t>(n, 1),
                                        stream_));
    return bytes;
  }
  // out[i] = max(in[0..i]).
  void running_max(const int64_t* in, int64_t* out, int64_t n, void* temp, size_t temp_bytes) const {
    if (n <= 0 || error_ != cudaSuccess) return;
    note(cub::DeviceScan::InclusiveScan(temp, temp_bytes, in, out, ::cuda::maximum<>{}, n, stream_));
  }

  size_t max_temp_bytes(int64_t n) const {
    size_t bytes = 0;
    note(cub::DeviceReduce::Max(nullptr, bytes, static_cast<const int64_t*>(nullptr), static_cast<int64_t*>(nullptr),
                                std::max<int64_t>(n, 1), stream_));
    return bytes;
  }
  // out = max(0, in[0..n)).
  void max(const int64_t* in, int64_t n, int64_t* out, void* temp, size_t temp_bytes) const {
    if (error_ != cudaSuccess) return;
    if (n <= 0) {
      note(cudaMemsetAsync(out, 0, sizeof(int64_t), stream_));
      return;
    }
    note(cub::DeviceReduce::Max(temp, temp_bytes, in, out, n, stream_));
  }
  // A value the algorithm needs on the host to shape its later launches: waits for the
  // stream. While the stream is being captured into a CUDA graph waiting is not allowed,
  // and the caller's bound `fallback` is returned instead.
  int64_t read_back(const int64_t* value, int64_t fallback) const {
    if (error_ != cudaSuccess) return fallback;
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    note(cudaStreamIsCapturing(stream_, &capture));
    if (error_ != cudaSuccess || capture != cudaStreamCaptureStatusNone) return fallback;
    int64_t host = fallback;
    note(cudaMemcpyAsync(&host, value, sizeof host, cudaMemcpyDeviceToHost, stream_));
    note(cudaStreamSynchronize(stream_));
    return error_ == cudaSuccess ? host : fallback;
  }

  int error() const { return int(error_); }

 private:
  void note(cudaError_t e) const {
    if (e != cudaSuccess && error_ == cudaSuccess) error_ = e;
  }
  cudaStream_t stream_;
  mutable cudaError_t error_ = cudaSuccess;
};

}  // namespace device
}  // namespace fastrank
