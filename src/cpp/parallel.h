// Work distribution over the machine's cores for the list kernels.
#pragma once

#include <cstdint>
#include <functional>

namespace fastrank {

int num_threads();
void set_num_threads(int n);

// Calls fn(task) for every task in [0, n_tasks) on up to num_threads() threads.
// `total_work` is a rough operation count; below a threshold the loop runs on the
// calling thread because starting threads would cost more than the work itself.
// The first exception thrown by any task is rethrown on the calling thread.
// Workers sleep between jobs, and waking one costs tens of microseconds. A caller that
// knows another job follows shortly (a training step's backward after its forward) passes
// `linger_us`: the workers then wait that long for the next job spinning instead of asleep.
void parallel_tasks(int64_t n_tasks, double total_work,
                    const std::function<void(int64_t task, int thread)>& fn, int linger_us = 0);

}  // namespace fastrank
