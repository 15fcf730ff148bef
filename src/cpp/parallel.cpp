#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace fastrank {
namespace {

std::atomic<int> g_threads{0};

// Below this many elementary operations a single thread wins: creating a thread
// costs tens of microseconds.
constexpr double kSerialWork = 2.0e5;

}  // namespace

int num_threads() {
  int n = g_threads.load();
  if (n > 0) return n;
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

void set_num_threads(int n) { g_threads.store(n < 0 ? 0 : n); }

void parallel_tasks(int64_t n_tasks, double total_work,
                    const std::function<void(int64_t, int)>& fn) {
  if (n_tasks <= 0) return;
  int threads = static_cast<int>(std::min<int64_t>(num_threads(), n_tasks));
  if (threads <= 1 || total_work < kSerialWork) {
    for (int64_t t = 0; t < n_tasks; ++t) fn(t, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&](int thread) {
    try {
      for (int64_t t = next.fetch_add(1); t < n_tasks; t = next.fetch_add(1)) fn(t, thread);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(n_tasks);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker, i);
  worker(0);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace fastrank
