// Pairwise logistic loss (RankNet) over lists: Σ_{y_a > y_b} log(1 + exp(-σ(s_a - s_b))).
// There is no exact sub-quadratic form, so this is an exact O(n²) loop, arranged so
// that each row's partners are one contiguous run of memory.
#include "kernels.h"
#include "lists.h"
#include "pair_rows.h"

namespace fastrank {
namespace {

template <typename T>
int logistic_lists(const PairwiseLogisticArgs& args) {
  const T* s = static_cast<const T*>(args.scores);
  const T* y = static_cast<const T*>(args.targets);
  T* grad = static_cast<T*>(args.grad);
  const double sigma = args.sigma;
  double small_work = 0;
  for (int64_t g = 0; g < args.n_lists; ++g) {
    const double n = double(args.offsets[g + 1] - args.offsets[g]);
    small_work += 10.0 * n * n;
  }
  return run_lists<T>(args, small_work, true, [&](int64_t g, double& loss, double& pairs) -> int {
    const int64_t begin = args.offsets[g], n = args.offsets[g + 1] - begin;
    const T* sg = s + begin; const T* yg = y + begin;
    int status = kOk;
    if (!all_finite(sg, n)) status |= kNonFiniteScores;
    if (!all_finite(yg, n)) status |= kNonFiniteTargets;
    if (status != kOk) return status;
    ListScratch& w = thread_scratch();
    // Items sorted by target descending: the worse partners of a row are everything
    // after the end of its run of equal targets.
    order_by_score_desc(yg, n, w.keyed, w.order);
    std::vector<T>& sp = w.typed<T>(0); std::vector<double>& tie_end = w.b;
    sp.resize(n); tie_end.resize(n);
    for (int64_t p = 0; p < n; ++p) sp[p] = sg[w.order[p]];
    double n_pairs = 0;
    for (int64_t p = n - 1, end = n; p >= 0; --p) {
      if (p + 1 < n && w.keyed[p].first != w.keyed[p + 1].first) end = p + 1;
      tie_end[p] = double(end);
      n_pairs += double(n - end);
    }
    pairs = n_pairs;
    auto rows = [&](int64_t r0, int64_t r1, double* gr) {
      return accumulate_rows<T>(r0, r1, n, gr, [&](int64_t p, T* acc) {
        const int64_t q0 = int64_t(tie_end[p]);
        return ranknet_row(sp[p], sp.data() + q0, n - q0, T(sigma), acc + q0, acc + p);
      });
    };
    double l;
    if (n >= kSplitListMin) {
      l = split_rows(n, n, [&](int64_t p) { return n - int64_t(tie_end[p]); }, rows, w.c);
    } else {
      w.c.assign(n, 0.0);
      l = rows(0, n, w.c.data());
    }
    loss = l;
    for (int64_t p = 0; p < n; ++p) grad[begin + w.order[p]] = T(w.c[p]);
    return kOk;
  });
}

}  // namespace

int pairwise_logistic_cpu(const PairwiseLogisticArgs& args) {
  return args.dtype == DType::kFloat64 ? logistic_lists<double>(args) : logistic_lists<float>(args);
}

}  // namespace fastrank
