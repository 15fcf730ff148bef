// Building blocks of the device algorithms. Every algorithm in src/cuda is written once,
// as item functions over an executor `Exec`: CudaExec (cuda_exec.cuh) launches them as
// kernels on a stream; HostExec runs the very same item functions as plain loops (the
// "host twin", compiled by the C++ compiler into _C). The twin lets machines without a
// GPU execute and test the exact arithmetic and indexing the GPU runs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "host_device.h"
#include "kernels.h"

namespace fastrank {
namespace device {

// A device-style call: its scratch memory (from torch's allocator, sized by a query call
// with workspace == nullptr) and where data errors are reported (Status bits OR-ed into
// one int in the op's memory space). `stream` is a cudaStream_t as an integer.
struct DeviceCall {
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  int* status = nullptr;
  intptr_t stream = 0;
};

// Return codes of the device entry points (CUDA errors are passed through as positive ints).
constexpr int kDeviceOk = 0;
constexpr int kWorkspaceTooSmall = -1;
constexpr int kBuiltWithoutCuda = -2;

FR_HD inline void raise_status(int* status, int bits) {
#if defined(__CUDA_ARCH__)
  atomicOr(status, bits);
#else
  *status |= bits;
#endif
}

FR_HD inline bool is_finite(double x) { return x - x == 0.0; }

// The list holding item i: the last g with offsets[g] <= i (empty lists share offsets,
// and the last of them is the list that actually starts there).
FR_HD inline int64_t list_of(const int64_t* offsets, int64_t n_lists, int64_t i) {
  int64_t lo = 0, hi = n_lists;  // answer in [lo, hi)
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (offsets[mid] <= i) lo = mid; else hi = mid;
  }
  return lo;
}

// Unsigned keys whose order is the order of the doubles (finite ones; NaN sorts past the
// infinities), so one integer radix sort serves scores of either dtype. Both zeros get
// the key of +0: they are equal values, and pairs are decided by value.
FR_HD inline uint64_t ordered_bits(double x) {
  if (x == 0.0) x = 0.0;
  uint64_t b;
#if defined(__CUDA_ARCH__)
  b = static_cast<uint64_t>(__double_as_longlong(x));
#else
  std::memcpy(&b, &x, sizeof b);
#endif
  return (b >> 63) != 0 ? ~b : b | (uint64_t(1) << 63);
}

// Bits needed to write values below `bound` (bound <= 1 needs none).
inline int bits_below(int64_t bound) {
  int bits = 0;
  for (uint64_t v = bound > 1 ? uint64_t(bound - 1) : 0; v != 0; v >>= 1) ++bits;
  return bits;
}

// M running sums carried through a scan as one value.
template <int M>
struct Sums {
  double v[M];
  FR_HD Sums operator+(const Sums& o) const {
    Sums r;
    for (int q = 0; q < M; ++q) r.v[q] = v[q] + o.v[q];
    return r;
  }
};

// Carves aligned typed arrays out of one workspace. With a null base it only measures,
// so the size query and the real call walk the same layout code.
class Carver {
 public:
  explicit Carver(void* base) : base_(static_cast<char*>(base)) {}
  template <typename T>
  T* take(int64_t count) {
    const size_t at = (used_ + 255) & ~size_t(255);
    used_ = at + sizeof(T) * size_t(count > 0 ? count : 0);
    return base_ != nullptr ? reinterpret_cast<T*>(base_ + at) : nullptr;
  }
  void* bytes(size_t count) { return take<unsigned char>(int64_t(count)); }
  size_t used() const { return used_; }
  bool measuring() const { return base_ == nullptr; }

 private:
  char* base_;
  size_t used_ = 0;
};

// After an algorithm has carved its workspace: a size query ends here with the size, and
// a run with too small a workspace ends here with an error.
#define FASTRANK_CARVE_OR_MEASURE(carver, call)                              \
  if ((carver).measuring()) {                                              \
    (call).workspace_bytes = (carver).used();                              \
    return kDeviceOk;                                                      \
  }                                                                        \
  if ((carver).used() > (call).workspace_bytes) return kWorkspaceTooSmall;

// Runs the item functions as loops: the reference executor of the device algorithms.
// The twin's "stream" argument: kTwinAsIfCaptured makes it behave as CUDA does inside a
// graph capture, where values cannot be read back (tests of that path use it).
constexpr intptr_t kTwinAsIfCaptured = 1;

struct HostExec {
  explicit HostExec(intptr_t stream = 0) : as_if_captured_(stream == kTwinAsIfCaptured) {}
  template <typename F>
  void for_each(int64_t n, F f) const {
    for (int64_t i = 0; i < n; ++i) f(i);
  }
  size_t sum_temp_bytes(int64_t, int64_t) const { return 0; }
  // out[g] = Σ in[offsets[g] .. offsets[g+1]).
  void segmented_sum(const double* in, const int64_t* offsets, int64_t n_segments, double* out, void*,
                     size_t) const {
    for (int64_t g = 0; g < n_segments; ++g) {
      double total = 0;
      for (int64_t i = offsets[g]; i < offsets[g + 1]; ++i) total += in[i];
      out[g] = total;
    }
  }
  void sum(const double* in, int64_t n, double* out, void*, size_t) const {
    double total = 0;
    for (int64_t i = 0; i < n; ++i) total += in[i];
    *out = total;
  }
  size_t sort_temp_bytes(int64_t, int) const { return 0; }
  // Stable sort of (key, value) pairs by the key's low end_bit bits.
  void sort_pairs(const uint64_t* keys_in, uint64_t* keys_out, const int64_t* values_in, int64_t* values_out,
                  int64_t n, int end_bit, void*, size_t) const {
    const uint64_t mask = end_bit >= 64 ? ~uint64_t(0) : (uint64_t(1) << end_bit) - 1;
    std::vector<int64_t> order(size_t(n > 0 ? n : 0));
    std::iota(order.begin(), order.end(), int64_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return (keys_in[a] & mask) < (keys_in[b] & mask); });
    for (int64_t p = 0; p < n; ++p) {
      keys_out[p] = keys_in[order[p]];
      values_out[p] = values_in[order[p]];
    }
  }
  template <typename V>
  size_t scan_by_key_temp_bytes(int64_t) const { return 0; }
  // out[i] = sum of in[j] over the j < i of i's run of equal keys.
  template <typename V>
  void exclusive_sum_by_key(const uint64_t* keys, const V* in, V* out, int64_t n, void*, size_t) const {
    V run{};
    for (int64_t i = 0; i < n; ++i) {
      if (i == 0 || keys[i] != keys[i - 1]) run = V{};
      out[i] = run;
      run = run + in[i];
    }
  }
  template <typename V>
  size_t inclusive_sum_temp_bytes(int64_t) const { return 0; }
  template <typename V>
  void inclusive_sum(const V* in, V* out, int64_t n, void*, size_t) const {
    V run{};
    for (int64_t i = 0; i < n; ++i) out[i] = run = run + in[i];
  }
  size_t running_max_temp_bytes(int64_t) const { return 0; }
  // out[i] = max(in[0..i]).
  void running_max(const int64_t* in, int64_t* out, int64_t n, void*, size_t) const {
    for (int64_t i = 0; i < n; ++i) out[i] = i == 0 || in[i] > out[i - 1] ? in[i] : out[i - 1];
  }
  size_t max_temp_bytes(int64_t) const { return 0; }
  void max(const int64_t* in, int64_t n, int64_t* out, void*, size_t) const {
    int64_t best = 0;
    for (int64_t i = 0; i < n; ++i) best = std::max(best, in[i]);
    *out = best;
  }
  // A value the algorithm needs on the host to shape its later launches.
  int64_t read_back(const int64_t* value, int64_t fallback) const { return as_if_captured_ ? fallback : *value; }
  int error() const { return kDeviceOk; }

 private:
  bool as_if_captured_;
};

}  // namespace device
}  // namespace fastrank
