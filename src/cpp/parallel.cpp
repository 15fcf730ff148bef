#include "parallel.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace fastrank {
namespace {

std::atomic<int> g_threads{0};

// Below this many elementary operations a single thread wins even with warm workers.
constexpr double kSerialWork = 5.0e4;

// Workers stay alive between calls: in a training loop a loss is called thousands of
// times, and starting threads each time costs more than a small call's work. Between jobs
// they sleep rather than spin: in a training loop the next thing to run is usually a torch
// op whose OpenMP threads need every core (a 200 µs spin measured 1.4x slower per step).
class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { work(i + 1); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      ++generation_;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int size() const { return int(threads_.size()) + 1; }

  // Runs the job on the caller and on whichever workers join while it is open; returns when
  // all tasks are done. The caller never waits for a worker that has not joined: on a machine
  // whose cores are busy (torch's OpenMP threads spin after each op), a sleeping worker may not
  // get a core for a scheduler tick, and the caller would sit idle that long for nothing.
  void run(int64_t n_tasks, const std::function<void(int64_t, int)>& fn, int linger_us) {
    fn_ = &fn;
    linger_us_.store(linger_us, std::memory_order_relaxed);
    n_tasks_ = n_tasks;
    next_.store(0);
    error_ = nullptr;
    finished_.store(0);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++generation_;
      gate_.store(0, std::memory_order_release);  // open, nobody joined
    }
    wake_.notify_all();
    drain(0);
    const uint32_t joined = gate_.fetch_or(kClosed, std::memory_order_acq_rel);
    while (finished_.load(std::memory_order_acquire) < joined) std::this_thread::yield();
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void drain(int thread) {
    try {
      for (int64_t t = next_.fetch_add(1); t < n_tasks_; t = next_.fetch_add(1)) (*fn_)(t, thread);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
      next_.store(n_tasks_);
    }
  }

  void work(int thread) {
    uint64_t seen = 0;
    int linger_us = 0;
    for (;;) {
      if (linger_us > 0) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(linger_us);
        while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until)
          std::this_thread::yield();
      }
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        seen = generation_.load();
        if (stop_) return;
      }
      // Join only while the job is open; the job's fields are read after joining, so a late
      // worker either helps the current job or leaves it alone.
      uint32_t gate = gate_.load(std::memory_order_acquire);
      while (!(gate & kClosed) && !gate_.compare_exchange_weak(gate, gate + 1, std::memory_order_acq_rel)) {
      }
      if (gate & kClosed) {
        linger_us = 0;
        continue;
      }
      linger_us = linger_us_.load(std::memory_order_relaxed);
      drain(thread);
      finished_.fetch_add(1, std::memory_order_release);
    }
  }

  static constexpr uint32_t kClosed = 1u << 31;

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false;
  const std::function<void(int64_t, int)>* fn_ = nullptr;
  int64_t n_tasks_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<uint32_t> gate_{kClosed};  // kClosed bit | number of workers that joined
  std::atomic<uint32_t> finished_{0};
  std::atomic<int> linger_us_{0};
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

std::mutex g_pool_mutex;  // one job at a time; a second concurrent caller runs serially
Pool* g_pool = nullptr;
thread_local bool t_inside_job = false;

void forget_pool_after_fork() {
  // The child has none of the parent's threads: drop the pool (without joining) and
  // build a new one on first use.
  g_pool = nullptr;
  new (&g_pool_mutex) std::mutex();
}

Pool* pool_of_size(int threads) {
  static bool registered = [] { return pthread_atfork(nullptr, nullptr, forget_pool_after_fork) == 0; }();
  (void)registered;
  if (g_pool == nullptr || g_pool->size() != threads) {
    delete g_pool;
    g_pool = new Pool(threads - 1);
  }
  return g_pool;
}

}  // namespace

int num_threads() {
  int n = g_threads.load();
  if (n > 0) return n;
  // Read once: hardware_concurrency() reads /sys on every call (microseconds).
  static const int hardware = [] {
    unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
  }();
  return hardware;
}

void set_num_threads(int n) { g_threads.store(n < 0 ? 0 : n); }

void parallel_tasks(int64_t n_tasks, double total_work, const std::function<void(int64_t, int)>& fn,
                    int linger_us) {
  if (n_tasks <= 0) return;
  const int threads = num_threads();
  auto serial = [&] {
    for (int64_t t = 0; t < n_tasks; ++t) fn(t, 0);
  };
  if (threads <= 1 || n_tasks == 1 || total_work < kSerialWork || t_inside_job) return serial();
  std::unique_lock<std::mutex> lock(g_pool_mutex, std::try_to_lock);
  if (!lock.owns_lock()) return serial();
  Pool* pool = pool_of_size(threads);
  t_inside_job = true;
  try {
    pool->run(n_tasks, fn, linger_us);
  } catch (...) {
    t_inside_job = false;
    throw;
  }
  t_inside_job = false;
}

}  // namespace fastrank
