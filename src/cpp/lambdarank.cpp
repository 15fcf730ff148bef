// LambdaRank with NDCG@k pair weights (docs/algorithms.md §2, §3).
// Ranks come from the current scores (descending, ties by index) and are held constant.
// w_ab = (G_a - G_b)·|D_a - D_b| / IDCG@k with D(rank) = 1/log2(1 + rank) for rank <= k,
// else 0. The loss is Σ_{y_a > y_b} w_ab·ℓ(a, b) for a logistic, hinge or squared hinge ℓ.
#include "kernels.h"
#include "lists.h"
#include "pair_rows.h"

namespace fastrank {
namespace {

// Per-list data in rank order (position p = rank - 1).
struct RankedList {
  std::vector<double> s, gain, disc, inv_key;
  std::vector<int32_t> level;
  double idcg = 0;
};

template <typename T>
void rank_list(const T* s, const T* y, int64_t n, int64_t k, Gain gain, ListScratch& w, RankedList& r) {
  order_by_score_desc(s, n, w.keyed, w.order);
  r.s.resize(n); r.gain.resize(n); r.disc.resize(n); r.level.resize(n);
  for (int64_t p = 0; p < n; ++p) {
    const int64_t i = w.order[p];
    r.s[p] = double(s[i]);
    r.gain[p] = gain == Gain::kExp2 ? std::exp2(double(y[i])) - 1.0 : double(y[i]);
    r.disc[p] = p < k ? 1.0 / std::log2(double(p) + 2.0) : 0.0;
    r.level[p] = w.level[i];
  }
  std::vector<double>& ideal = w.e;
  ideal = r.gain;
  const int64_t top = std::min(k, n);
  std::partial_sort(ideal.begin(), ideal.begin() + top, ideal.end(), std::greater<double>());
  r.idcg = 0;
  for (int64_t p = 0; p < top; ++p) r.idcg += ideal[p] / std::log2(double(p) + 2.0);
}

// Logistic pair loss: only pairs with a member among the first k positions have weight,
// so row p < k meets every later position: O(n·k) pairs.
// Rows p0..p1-1 in the precision T of the inputs, gains already divided by IDCG@k.
template <typename T>
double logistic_rows(const std::vector<T>& s, const std::vector<T>& g, const std::vector<T>& d, int64_t n, T sigma,
                     int64_t p0, int64_t p1, double* gr) {
  return accumulate_rows<T>(p0, p1, n, gr, [&](int64_t p, T* acc) {
    return lambda_row(s[p], g[p], d[p], &s[p + 1], &g[p + 1], &d[p + 1], n - p - 1, sigma, acc + p + 1, acc + p);
  });
}

// Hinge pair losses, exact in O(n log n): on each side of an item, |D_a - D_b| has a
// fixed sign, so every sum splits into moments over {1, G, D, G·D} × {1, s, s²} of the
// partners on lower (or higher) target levels, over prefixes (suffixes) of rank order.
// Above this, the moment sums (products of up to two scores or margins with n weights) could
// overflow a double although the loss itself does not.
constexpr double kHingeScaleLimit = 1e100;

template <bool Squared>
double hinge_sweeps(const RankedList& r, int64_t n, int64_t n_levels, double margin, std::vector<double>& gr) {
  // The hinge is positively homogeneous: loss(s, m) = c·loss(s/c, m/c) (c² for the squared
  // hinge), with the same gradient (c times it). Huge margins or scores are swept at scale 1/c.
  double scale = std::fabs(margin);
  for (int64_t p = 0; p < n; ++p) scale = std::max(scale, std::fabs(r.s[p]));
  if (scale > kHingeScaleLimit) {
    RankedList scaled = r;
    for (double& v : scaled.s) v /= scale;
    const double loss = hinge_sweeps<Squared>(scaled, n, n_levels, margin / scale, gr);
    if (!Squared) return loss * scale;
    for (double& g : gr) g *= scale;
    return loss * scale * scale;
  }
  gr.assign(n, 0.0);
  std::vector<double> key(n);
  for (int64_t p = 0; p < n; ++p) key[p] = r.s[p] + margin;  // computed once: both sweeps agree

  // Moment index: weight φ ∈ {1, G, D, GD} (φ index f) times power of s (e): 3·f + e.
  auto moments12 = [&](int64_t p) {
    const double phi[4] = {1.0, r.gain[p], r.disc[p], r.gain[p] * r.disc[p]};
    std::array<double, 12> v{};
    for (int f = 0; f < 4; ++f) { v[3 * f] = phi[f]; v[3 * f + 1] = phi[f] * r.s[p]; v[3 * f + 2] = phi[f] * r.s[p] * r.s[p]; }
    return v;
  };
  // Σ_b (G_a - G_b)(D_a - D_b)·F_b for per-weight sums F(f) = Σ φ_f·(...).
  auto expand = [](double ga, double da, auto&& F) { return ga * da * F(0) - ga * F(2) - da * F(1) + F(3); };

  // Higher side. Active lower partners of a (position p): positions with key > s_a,
  // a prefix [0, P). Those ranked above a are the prefix [0, min(P, p)), where
  // |D_a - D_b| = -(D_a - D_b); so the sum is X(active) - 2·X(active ∩ above).
  MomentTree<12> active, above;
  active.reset(n_levels); above.reset(n_levels);
  int64_t pa = 0, pb = 0;
  double loss = 0;
  for (int64_t p = 0; p < n; ++p) {
    const double sa = r.s[p], u = margin - sa;
    for (; pa < n && key[pa] > sa; ++pa) active.add(r.level[pa], moments12(pa));
    for (; pb < std::min(pa, p); ++pb) above.add(r.level[pb], moments12(pb));
    const auto ma = active.below(r.level[p]), mb = above.below(r.level[p]);
    auto h = [&](const std::array<double, 12>& m) {
      return [&m, u](int f) {
        const double c = m[3 * f], S = m[3 * f + 1], Q = m[3 * f + 2];
        return Squared ? c * u * u + 2 * u * S + Q : c * u + S;
      };
    };
    auto dh = [&](const std::array<double, 12>& m) {
      return [&m, u](int f) {
        const double c = m[3 * f], S = m[3 * f + 1];
        return Squared ? 2 * (c * u + S) : c;
      };
    };
    const double ga = r.gain[p], da = r.disc[p];
    loss += expand(ga, da, h(ma)) - 2 * expand(ga, da, h(mb));
    gr[p] -= expand(ga, da, dh(ma)) - 2 * expand(ga, da, dh(mb));
  }

  // Lower side, mirrored. Active higher partners of b: positions with s < key_b, a
  // suffix [Q, n). Those ranked below b are [max(Q, p + 1), n), where the sign of
  // D_a - D_b flips; so the sum is Y(active) - 2·Y(active ∩ below).
  auto moments8 = [&](int64_t p) {
    const double phi[4] = {1.0, r.gain[p], r.disc[p], r.gain[p] * r.disc[p]};
    std::array<double, 8> v{};
    for (int f = 0; f < 4; ++f) { v[2 * f] = phi[f]; v[2 * f + 1] = phi[f] * r.s[p]; }
    return v;
  };
  MomentTree<8> act_hi, below;
  act_hi.reset(n_levels); below.reset(n_levels);
  int64_t qa = n - 1, qb = n - 1;
  for (int64_t p = n - 1; p >= 0; --p) {
    const double tb = key[p];
    for (; qa >= 0 && r.s[qa] < tb; --qa) act_hi.add(r.level[qa], moments8(qa));
    for (; qb >= std::max(qa + 1, p + 1); --qb) below.add(r.level[qb], moments8(qb));
    const auto ma = act_hi.above(r.level[p]), mb = below.above(r.level[p]);
    auto dh = [&](const std::array<double, 8>& m) {
      return [&m, tb](int f) {
        const double d = m[2 * f], S = m[2 * f + 1];
        return Squared ? 2 * (d * tb - S) : d;
      };
    };
    // Σ_a (G_a - G_b)(D_a - D_b)·F_a, expanded around b's own G and D.
    auto expand_b = [&](auto&& F) { return F(3) - r.disc[p] * F(1) - r.gain[p] * F(2) + r.gain[p] * r.disc[p] * F(0); };
    gr[p] += expand_b(dh(ma)) - 2 * expand_b(dh(mb));
  }
  return loss;
}

template <typename T>
int lambdarank_lists(const LambdaRankArgs& args) {
  const T* s = static_cast<const T*>(args.scores);
  const T* y = static_cast<const T*>(args.targets);
  T* grad = static_cast<T*>(args.grad);
  const bool logistic = args.pair_loss == PairLoss::kLogistic;
  double small_work = 0;
  for (int64_t g = 0; g < args.n_lists; ++g) {
    const double n = double(args.offsets[g + 1] - args.offsets[g]);
    const double k = args.k < 0 ? n : std::min(n, double(args.k));
    small_work += logistic ? 10.0 * n * k + 30.0 * n * std::log2(n + 2) : 200.0 * n * std::log2(n + 2);
  }
  auto one_list = [&](int64_t g, double& loss, double& pairs) -> int {
    const int64_t begin = args.offsets[g], n = args.offsets[g + 1] - begin;
    const T* sg = s + begin; const T* yg = y + begin; T* gg = grad + begin;
    int status = kOk;
    if (!all_finite(sg, n)) status |= kNonFiniteScores;
    if (!all_finite(yg, n)) status |= kNonFiniteTargets;
    if (args.gain == Gain::kExp2)
      for (int64_t i = 0; i < n; ++i) if (yg[i] > T(1000)) status |= kGainOverflow;
    if (status != kOk) return status;
    ListScratch& w = thread_scratch();
    const int64_t n_levels = target_levels(yg, n, w.values, w.level);
    pairs = count_pairs(w.level, n_levels, w.hist);
    const int64_t k = args.k < 0 ? n : std::min(args.k, n);
    // A named reference: a lambda naming a thread_local directly would read the
    // executing thread's copy when split_rows runs it on a worker.
    thread_local RankedList ranked;
    RankedList& r = ranked;
    rank_list(sg, yg, n, k, args.gain, w, r);
    if (!(r.idcg > 0)) {  // no relevant item: NDCG is undefined and the list adds nothing
      loss = 0;
      for (int64_t i = 0; i < n; ++i) gg[i] = T(0);
      return kOk;
    }
    std::vector<double>& gr = w.c;
    if (!logistic) {
      // Gains scaled by 1/IDCG before the sweeps, not the sum after: a sum near the largest
      // double would overflow before its division.
      for (double& gain : r.gain) gain /= r.idcg;
      loss = args.pair_loss == PairLoss::kSquaredHinge ? hinge_sweeps<true>(r, n, n_levels, args.margin, gr)
                                                       : hinge_sweeps<false>(r, n, n_levels, args.margin, gr);
      for (int64_t p = 0; p < n; ++p) gg[w.order[p]] = T(gr[p]);
      return kOk;
    }
    // The logistic rows run in the inputs' precision on gains scaled by 1/IDCG (<= 1,
    // so 2^y - 1 cannot overflow a float).
    std::vector<T>& rs = w.typed<T>(0); std::vector<T>& rg = w.typed<T>(1); std::vector<T>& rd = w.typed<T>(2);
    rs.resize(n); rg.resize(n); rd.resize(n);
    for (int64_t p = 0; p < n; ++p) {
      rs[p] = sg[w.order[p]];
      rg[p] = T(r.gain[p] / r.idcg);
      rd[p] = T(r.disc[p]);
    }
    auto rows = [&](int64_t p0, int64_t p1, double* out) {
      return logistic_rows<T>(rs, rg, rd, n, T(args.sigma), p0, p1, out);
    };
    double l;
    if (n >= kSplitListMin) {
      l = split_rows(k, n, [n](int64_t p) { return n - 1 - p; }, rows, gr);
    } else {
      gr.assign(n, 0.0);
      l = rows(0, k, gr.data());
    }
    loss = l;
    for (int64_t p = 0; p < n; ++p) gg[w.order[p]] = T(gr[p]);
    return kOk;
  };
  return run_lists<T>(args, small_work, logistic, one_list);
}

}  // namespace

int lambdarank_cpu(const LambdaRankArgs& args) {
  return args.dtype == DType::kFloat64 ? lambdarank_lists<double>(args) : lambdarank_lists<float>(args);
}

}  // namespace fastrank
