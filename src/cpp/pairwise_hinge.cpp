// Pairwise hinge and squared hinge over lists, exact in O(n log n) per list
// (docs/algorithms.md §1). A pair (a, b) with y_a > y_b is active when s_b + m > s_a; its loss
// is w·h(z) with z = s_b + m - s_a, h(z) = z or z², and w = 1 or y_a - y_b.
#include "kernels.h"
#include "lists.h"
#include "pair_rows.h"

namespace fastrank {
namespace {

// Lists up to this size use the direct pair loop: its O(n²) work is cheaper than
// the sorts and tree updates of the sweep at this size, and it is equally exact.
constexpr int64_t kDirectMax = 40;

// WARP weight of a better item with v active lower partners (docs/algorithms.md §4).
class RankWeighter {
 public:
  RankWeighter(RankWeight kind, int64_t n) : kind_(kind) {
    if (kind_ == RankWeight::kNone) return;
    harmonic_.assign(n + 1, 0.0);
    for (int64_t j = 1; j <= n; ++j) harmonic_[j] = harmonic_[j - 1] + 1.0 / double(j);
  }
  double operator()(double v) const {
    if (kind_ == RankWeight::kNone) return 1.0;
    const int64_t c = int64_t(v + 0.5);  // v is an exact count held in a double
    if (c == 0) return 0.0;
    return kind_ == RankWeight::kWarp ? harmonic_[c] / double(c) : harmonic_[c];
  }
  bool active() const { return kind_ != RankWeight::kNone; }

 private:
  RankWeight kind_;
  std::vector<double> harmonic_;
};

// All n² (item, partner) combinations, masked: for lists this short a branch-free full pass
// beats sorting the items to visit only the real pairs.
template <typename T>
double hinge_direct(const T* s, const T* y, int64_t n, double margin, bool squared, bool weighted,
                    const RankWeighter& rank_weight, T* grad, double& pairs) {
  ListScratch& w = thread_scratch();
  std::vector<double>& sd = w.a; std::vector<double>& key = w.b; std::vector<double>& yd = w.c;
  std::vector<double>& omega = w.d;
  sd.resize(n); key.resize(n); yd.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    sd[i] = double(s[i]);
    key[i] = sd[i] + margin;  // the same key the sweep compares against
    yd[i] = double(y[i]);
  }
  if (rank_weight.active()) {  // every item's rank weight first: its partners need it
    omega.resize(n);
    for (int64_t i = 0; i < n; ++i)
      omega[i] = rank_weight(double(count_active_row(sd[i], yd[i], key.data(), yd.data(), n)));
  }
  std::vector<double>& gr = w.e;
  gr.resize(n);
  double n_pairs = 0;
  const double loss = hinge_list_direct(sd.data(), key.data(), yd.data(), rank_weight.active() ? omega.data() : nullptr,
                                        n, margin, squared, weighted, gr.data(), &n_pairs);
  for (int64_t i = 0; i < n; ++i) grad[i] = T(gr[i]);
  pairs = n_pairs;
  return loss;
}

template <typename T, bool Squared, bool Weighted>
double hinge_sweep(const T* s, const T* y, int64_t n, int64_t n_levels, double margin, const RankWeighter& rank_weight,
                   T* grad) {
  ListScratch& w = thread_scratch();
  order_by_score_desc(s, n, w.keyed, w.order);
  // Gathered in score order: score, key s + m (computed once, so both sweeps agree on
  // which pairs are active), level, pair-weight value, gradient.
  std::vector<double>& sd = w.a; std::vector<double>& td = w.b; std::vector<double>& gv = w.c;
  std::vector<double>& gr = w.d;
  std::vector<double>& omega = w.e;  // rank weight of each item as the better one of its pairs
  omega.assign(n, 1.0);
  std::vector<int32_t> lv(n);
  sd.resize(n); td.resize(n); gv.resize(n); gr.assign(n, 0.0);
  for (int64_t p = 0; p < n; ++p) {
    const int64_t i = w.order[p];
    sd[p] = double(s[i]);
    td[p] = sd[p] + margin;
    lv[p] = w.level[i];
    gv[p] = Weighted ? double(y[i]) : 1.0;
  }

  // Higher side: for a in descending s, the active lower partners are the items with
  // key > s_a (a prefix in this order) on levels below a's. Moments: Σw·(1, s, s²) and,
  // weighted, Σ(1, s, s²) again so that (g_a - g_b) expands.
  constexpr int M = Weighted ? 6 : 3;
  MomentTree<M> tree;
  tree.reset(n_levels);
  double loss = 0;
  int64_t ptr = 0;
  for (int64_t p = 0; p < n; ++p) {
    const double sa = sd[p];
    for (; ptr < n && td[ptr] > sa; ++ptr) {
      const double sb = sd[ptr];
      std::array<double, M> v{};
      v[0] = 1.0; v[1] = sb; v[2] = sb * sb;
      if (Weighted) { v[3] = gv[ptr]; v[4] = gv[ptr] * sb; v[5] = gv[ptr] * sb * sb; }
      tree.add(lv[ptr], v);
    }
    const auto m = tree.below(lv[p]);
    const double u = margin - sa;
    const double om = omega[p] = rank_weight(m[0]);
    // Σ_b h(u + s_b) and Σ_b h'(u + s_b) over moments (c, S, Q) of one weight.
    auto h_sum = [u](double c, double S, double Q) { return Squared ? c * u * u + 2 * u * S + Q : c * u + S; };
    auto d_sum = [u](double c, double S) { return Squared ? 2 * (c * u + S) : c; };
    if (Weighted) {
      const double ga = gv[p];
      loss += om * (ga * h_sum(m[0], m[1], m[2]) - h_sum(m[3], m[4], m[5]));
      gr[p] -= om * (ga * d_sum(m[0], m[1]) - d_sum(m[3], m[4]));
    } else {
      loss += om * h_sum(m[0], m[1], m[2]);
      gr[p] -= om * d_sum(m[0], m[1]);
    }
  }

  // Lower side, mirrored: for b in ascending key, the active higher partners are the
  // items with s < key_b (a suffix of the score order) on levels above b's; their
  // moments carry each partner's rank weight.
  constexpr int M2 = Weighted ? 4 : 2;
  MomentTree<M2> upper;
  upper.reset(n_levels);
  ptr = n - 1;
  for (int64_t p = n - 1; p >= 0; --p) {
    const double tb = td[p];
    for (; ptr >= 0 && sd[ptr] < tb; --ptr) {
      const double om = omega[ptr];
      std::array<double, M2> v{};
      v[0] = om; v[1] = om * sd[ptr];
      if (Weighted) { v[2] = om * gv[ptr]; v[3] = om * gv[ptr] * sd[ptr]; }
      upper.add(lv[ptr], v);
    }
    const auto m = upper.above(lv[p]);
    // Σ_a h'(t_b - s_a) over moments (d, S) of one weight.
    auto d_sum = [tb](double d, double S) { return Squared ? 2 * (d * tb - S) : d; };
    if (Weighted) gr[p] += d_sum(m[2], m[3]) - gv[p] * d_sum(m[0], m[1]);
    else gr[p] += d_sum(m[0], m[1]);
  }
  for (int64_t p = 0; p < n; ++p) grad[w.order[p]] = T(gr[p]);
  return loss;
}

template <typename T, bool Squared, bool Weighted>
int hinge_lists(const PairwiseHingeArgs& args) {
  const T* s = static_cast<const T*>(args.scores);
  const T* y = static_cast<const T*>(args.targets);
  T* grad = static_cast<T*>(args.grad);
  const double n_items = double(args.n_items);
  const double work = 30.0 * n_items * std::log2(n_items + 2.0);
  return run_lists<T>(args, work, false, [&](int64_t g, double& loss, double& pairs) -> int {
    const int64_t begin = args.offsets[g], n = args.offsets[g + 1] - begin;
    const T* sg = s + begin; const T* yg = y + begin; T* gg = grad + begin;
    int status = kOk;
    if (!all_finite(sg, n)) status |= kNonFiniteScores;
    if (!all_finite(yg, n)) status |= kNonFiniteTargets;
    if (status != kOk) return status;
    const RankWeighter rank_weight(args.rank_weight, n);
    if (n <= kDirectMax) {
      loss = hinge_direct(sg, yg, n, args.margin, Squared, Weighted, rank_weight, gg, pairs);
      return kOk;
    }
    ListScratch& w = thread_scratch();
    const int64_t n_levels = target_levels(yg, n, w.values, w.level);
    pairs = count_pairs(w.level, n_levels, w.hist);
    loss = hinge_sweep<T, Squared, Weighted>(sg, yg, n, n_levels, args.margin, rank_weight, gg);
    return kOk;
  });
}

template <typename T>
int hinge_dispatch(const PairwiseHingeArgs& args) {
  if (args.squared)
    return args.weighted ? hinge_lists<T, true, true>(args) : hinge_lists<T, true, false>(args);
  return args.weighted ? hinge_lists<T, false, true>(args) : hinge_lists<T, false, false>(args);
}

}  // namespace

int pairwise_hinge_cpu(const PairwiseHingeArgs& args) {
  return args.dtype == DType::kFloat64 ? hinge_dispatch<double>(args) : hinge_dispatch<float>(args);
}

}  // namespace fastrank
