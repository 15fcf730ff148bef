// Pairwise hinge and squared hinge on the device in O(n log n) work per list, for lists
// too long for the item-parallel O(n²) walk of list_device.h (ALGORITHMS.md §1).
//
// The CPU kernel answers, for every item a, sums over the items b of its list with
// level(b) < level(a) that come before a in one sort order (pass 1: keys s + m of b against
// score s_a, descending) with a sequential Fenwick sweep. Here the same question is answered
// with sorts and scans only. Each item enters twice, as a point (its moments) and as a
// query (where its sums are wanted), in one array sorted by (list, key) with a query ahead
// of a point of equal key (the comparisons are strict). Then, for each bit k of the level
// from the top, as in a wavelet tree:
//   the array is ordered by (list, level >> (k+1)) and within that by key; a query whose
//   bit k is 1 adds the sums of the earlier points of its group whose bit k is 0 (one
//   exclusive scan by group), which are exactly its partners whose highest differing level
//   bit is k; then each group is split stably by bit k (0s first), which orders the array by
//   (list, level >> k) for the next bit.
// Every pair with level(b) < level(a) is counted at exactly one bit. The mirrored pass 2
// (points before queries in ascending order, partners above) swaps the roles of the bits.
// A pass is a scan and a scatter over 2n entries, and there are log2(longest list) of them.
#pragma once

#include "device_api.h"
#include "list_device.h"

namespace fastrank {
namespace device {

// Lists sorted by (list, target): each item's level in its list, and where each level starts.
struct LevelIndex {
  const int64_t* offsets = nullptr;
  const int64_t* first = nullptr;     // first[offsets[g] + l]: sorted position of level l's first item
  const int64_t* n_levels = nullptr;  // levels of each list
  // Items of list g on levels below x.
  FR_HD int64_t below(int64_t g, int64_t x) const {
    return (x < n_levels[g] ? first[offsets[g] + x] : offsets[g + 1]) - offsets[g];
  }
};

// The entry arrays of the sweep, and where each item belongs.
struct SweepWork {
  int64_t n_items = 0, n_lists = 0;
  int list_bits = 0, level_bits = 0;
  const int64_t* list_id = nullptr;
  const int64_t* level = nullptr;
  LevelIndex levels;
  uint64_t* keys[2] = {nullptr, nullptr};
  int64_t* codes[2] = {nullptr, nullptr};  // an item i as a point is i, as a query ~i
  double* values = nullptr;                 // scan input and output, kMaxSums doubles per entry each
  double* prefix = nullptr;
  void* temp = nullptr;
  size_t temp_bytes = 0;
};

// Sums a pass carries: the count of entries on bit 0 (for the split) plus the moments.
constexpr int kMaxSums = 7;

// Sorts 2n entries by (list, key_of(item, is_query)), queries ahead of points of equal key,
// and returns the array of codes holding the result (the other is free).
template <typename Exec, typename KeyOf>
int64_t* sort_entries(const Exec& ex, const SweepWork& sw, KeyOf key_of) {
  const int64_t n = sw.n_items, n_entries = 2 * n;
  uint64_t* k0 = sw.keys[0];
  uint64_t* k1 = sw.keys[1];
  int64_t* c0 = sw.codes[0];
  int64_t* c1 = sw.codes[1];
  const int64_t* list_id = sw.list_id;
  // Queries first in the input, so that the stable sorts keep them ahead on equal keys.
  ex.for_each(n_entries, [=] FR_HD(int64_t e) {
    const bool query = e < n;
    const int64_t item = query ? e : e - n;
    c0[e] = query ? ~item : item;
    k0[e] = key_of(item, query);
  });
  ex.sort_pairs(k0, k1, c0, c1, n_entries, 64, sw.temp, sw.temp_bytes);
  if (sw.n_lists <= 1) return c1;
  ex.for_each(n_entries, [=] FR_HD(int64_t e) {
    const int64_t code = c1[e];
    k0[e] = uint64_t(list_id[code < 0 ? ~code : code]);
  });
  ex.sort_pairs(k0, k1, c1, c0, n_entries, sw.list_bits, sw.temp, sw.temp_bytes);
  return c0;
}

// acc[item * (M-1) + q] = Σ moments_q of the points before the item's query (in the sorted
// entries `codes`) in the same list, on levels below (point_bit 0) or above (point_bit 1)
// the query's. moments(item, double* out) writes M-1 values.
template <int M, typename Exec, typename Moments>
void dominance_sums(const Exec& ex, const SweepWork& sw, int64_t* codes, int point_bit, Moments moments,
                    double* acc) {
  static_assert(M <= kMaxSums, "values are carved for kMaxSums sums per entry");
  using V = Sums<M>;
  const int64_t n = sw.n_items, n_entries = 2 * n;
  ex.for_each(n * (M - 1), [=] FR_HD(int64_t q) { acc[q] = 0.0; });
  uint64_t* group = sw.keys[0];
  V* values = reinterpret_cast<V*>(sw.values);
  V* prefix = reinterpret_cast<V*>(sw.prefix);
  const int64_t* list_id = sw.list_id;
  const int64_t* level = sw.level;
  const LevelIndex levels = sw.levels;
  const int query_bit = 1 - point_bit;
  int64_t* from = codes;
  int64_t* to = codes == sw.codes[0] ? sw.codes[1] : sw.codes[0];
  for (int k = sw.level_bits - 1; k >= 0; --k) {
    ex.for_each(n_entries, [=] FR_HD(int64_t e) {
      const int64_t code = from[e];
      const int64_t item = code < 0 ? ~code : code;
      const int64_t g = list_id[item], l = level[item];
      const int bit = int((l >> k) & 1);
      group[e] = uint64_t(levels.offsets[g] + ((l >> (k + 1)) << (k + 1)));
      V v{};
      v.v[0] = bit == 0 ? 1.0 : 0.0;
      if (code >= 0 && bit == point_bit) moments(item, v.v + 1);
      values[e] = v;
    });
    ex.exclusive_sum_by_key(group, values, prefix, n_entries, sw.temp, sw.temp_bytes);
    ex.for_each(n_entries, [=] FR_HD(int64_t e) {
      const int64_t code = from[e];
      const int64_t item = code < 0 ? ~code : code;
      const int64_t g = list_id[item], l = level[item];
      const int bit = int((l >> k) & 1);
      const V& before = prefix[e];
      if (code < 0 && bit == query_bit)
        for (int q = 1; q < M; ++q) acc[item * (M - 1) + q - 1] += before.v[q];
      // The group is the entries of list g on levels [low, low + 2^(k+1)); each item has
      // two entries, and the lists lie in order, so it starts at 2·(items before it).
      const int64_t low = (l >> (k + 1)) << (k + 1);
      const int64_t below_low = levels.below(g, low);
      const int64_t start = 2 * (levels.offsets[g] + below_low);
      const int64_t zeros = 2 * (levels.below(g, low + (int64_t(1) << k)) - below_low);
      const int64_t zeros_before = int64_t(before.v[0]);
      const int64_t dest = bit == 0 ? start + zeros_before : start + zeros + (e - start - zeros_before);
      // Always inside the list's entries; the guard keeps a call whose `longest` is too
      // short (reported as bad offsets, levels past the bits) from writing outside them.
      if (dest >= 2 * levels.offsets[g] && dest < 2 * levels.offsets[g + 1]) to[dest] = code;
    });
    int64_t* t = from;
    from = to;
    to = t;
  }
}

template <typename T, typename Exec>
int pairwise_hinge_sweep_run(const Exec& ex, const HingeSweepArgs& a, DeviceCall& call) {
  const int64_t n = a.n_items, n_lists = a.n_lists, n_entries = 2 * n;
  const int64_t longest = a.longest > 0 ? a.longest : 0;
  const bool ranked = a.rank_weight != RankWeight::kNone;
  Carver c(call.workspace);
  const ListWork w = carve_list_work(ex, c, n, n_lists);
  SweepWork sw;
  sw.n_items = n;
  sw.n_lists = n_lists;
  sw.list_bits = bits_below(n_lists);
  sw.level_bits = bits_below(longest);
  int64_t* list_id = c.take<int64_t>(n);
  int64_t* level = c.take<int64_t>(n);
  int64_t* first = c.take<int64_t>(n);
  int64_t* n_levels = c.take<int64_t>(n_lists);
  int64_t* flags = c.take<int64_t>(n);
  int64_t* rank = c.take<int64_t>(n);
  double* acc = c.take<double>(n * (kMaxSums - 1));
  double* omega = c.take<double>(n);
  double* harmonic = ranked ? c.take<double>(longest + 1) : nullptr;
  double* inverse = ranked ? c.take<double>(longest + 1) : nullptr;
  for (int b = 0; b < 2; ++b) {
    sw.keys[b] = c.take<uint64_t>(n_entries);
    sw.codes[b] = c.take<int64_t>(n_entries);
  }
  sw.values = c.take<double>(n_entries * kMaxSums);
  sw.prefix = c.take<double>(n_entries * kMaxSums);
  sw.temp_bytes = std::max({ex.sort_temp_bytes(n_entries, 64), ex.sort_temp_bytes(n_entries, sw.list_bits),
                            ex.template scan_by_key_temp_bytes<Sums<kMaxSums>>(n_entries),
                            ex.template scan_by_key_temp_bytes<Sums<5>>(n_entries),
                            ex.template scan_by_key_temp_bytes<Sums<4>>(n_entries),
                            ex.template scan_by_key_temp_bytes<Sums<3>>(n_entries),
                            ex.template inclusive_sum_temp_bytes<int64_t>(n),
                            ex.template inclusive_sum_temp_bytes<double>(longest + 1)});
  sw.temp = c.bytes(sw.temp_bytes);
  FASTRANK_CARVE_OR_MEASURE(c, call)

  const T* s = static_cast<const T*>(a.scores);
  const T* y = static_cast<const T*>(a.targets);
  const int64_t* off = a.offsets;
  const double m = a.margin;
  const bool squared = a.squared, weighted = a.weighted, warp_mean = a.rank_weight == RankWeight::kWarp;
  int* status = call.status;
  sw.list_id = list_id;
  sw.level = level;
  sw.levels.offsets = off;
  sw.levels.first = first;
  sw.levels.n_levels = n_levels;
  const LevelIndex levels = sw.levels;

  ex.for_each(n, [=] FR_HD(int64_t i) {
    list_id[i] = list_of(off, n_lists, i);
    if (!is_finite(double(s[i]))) raise_status(status, kNonFiniteScores);
    if (!is_finite(double(y[i]))) raise_status(status, kNonFiniteTargets);
  });
  // The level bits come from `longest`; a longer list would have levels past them.
  ex.for_each(n_lists, [=] FR_HD(int64_t g) {
    if (off[g + 1] - off[g] > longest) raise_status(status, kBadOffsets);
  });

  // Levels: items sorted by (list, target); a level starts where the list or the target changes.
  {
    uint64_t* k0 = sw.keys[0];
    uint64_t* k1 = sw.keys[1];
    int64_t* c0 = sw.codes[0];
    int64_t* c1 = sw.codes[1];
    ex.for_each(n, [=] FR_HD(int64_t i) {
      k0[i] = ordered_bits(double(y[i]));
      c0[i] = i;
    });
    ex.sort_pairs(k0, k1, c0, c1, n, 64, sw.temp, sw.temp_bytes);
    const int64_t* sorted = c1;
    if (n_lists > 1) {
      ex.for_each(n, [=] FR_HD(int64_t p) { k0[p] = uint64_t(list_id[c1[p]]); });
      ex.sort_pairs(k0, k1, c1, c0, n, sw.list_bits, sw.temp, sw.temp_bytes);
      sorted = c0;
    }
    ex.for_each(n, [=] FR_HD(int64_t p) {
      const int64_t i = sorted[p];
      flags[p] = p == off[list_id[i]] || ordered_bits(double(y[i])) != ordered_bits(double(y[sorted[p - 1]]));
    });
    ex.inclusive_sum(flags, rank, n, sw.temp, sw.temp_bytes);
    ex.for_each(n, [=] FR_HD(int64_t p) {
      const int64_t i = sorted[p], g = list_id[i];
      const int64_t l = rank[p] - rank[off[g]];
      level[i] = l;
      if (flags[p]) first[off[g] + l] = p;
    });
    ex.for_each(n_lists, [=] FR_HD(int64_t g) {
      n_levels[g] = off[g + 1] > off[g] ? rank[off[g + 1] - 1] - rank[off[g]] + 1 : 0;
    });
  }
  double* item_pairs = w.item_pairs;
  ex.for_each(n, [=] FR_HD(int64_t i) { item_pairs[i] = double(levels.below(list_id[i], level[i])); });
  if (ranked) {
    ex.for_each(longest + 1, [=] FR_HD(int64_t j) { inverse[j] = j == 0 ? 0.0 : 1.0 / double(j); });
    ex.inclusive_sum(inverse, harmonic, longest + 1, sw.temp, sw.temp_bytes);
  }

  // Pass 1, the higher side: for a, its lower partners b with key s_b + m > s_a.
  int64_t* order = sort_entries(ex, sw, [=] FR_HD(int64_t i, bool query) {
    const double key = query ? double(s[i]) : double(s[i]) + m;
    return ~ordered_bits(key);  // descending
  });
  auto lower_moments = [=] FR_HD(int64_t b, double* v) {
    const double sb = double(s[b]);
    v[0] = 1.0; v[1] = sb; v[2] = sb * sb;
    if (weighted) {
      const double gb = double(y[b]);
      v[3] = gb; v[4] = gb * sb; v[5] = gb * sb * sb;
    }
  };
  if (weighted) dominance_sums<7>(ex, sw, order, 0, lower_moments, acc);
  else dominance_sums<4>(ex, sw, order, 0, lower_moments, acc);
  double* item_loss = w.item_loss;
  double* item_grad = w.item_grad;
  const int stride1 = weighted ? 6 : 3;
  ex.for_each(n, [=] FR_HD(int64_t i) {
    const double* q = acc + i * stride1;
    const double sa = double(s[i]), u = m - sa;
    double om = 1.0;
    if (ranked) {
      const int64_t v = int64_t(q[0] + 0.5);  // an exact count held in a double
      om = v == 0 ? 0.0 : (warp_mean ? harmonic[v] / double(v) : harmonic[v]);
    }
    omega[i] = om;
    auto h_sum = [=](double cnt, double S, double Q) { return squared ? cnt * u * u + 2 * u * S + Q : cnt * u + S; };
    auto d_sum = [=](double cnt, double S) { return squared ? 2 * (cnt * u + S) : cnt; };
    if (weighted) {
      const double ga = double(y[i]);
      item_loss[i] = om * (ga * h_sum(q[0], q[1], q[2]) - h_sum(q[3], q[4], q[5]));
      item_grad[i] = -om * (ga * d_sum(q[0], q[1]) - d_sum(q[3], q[4]));
    } else {
      item_loss[i] = om * h_sum(q[0], q[1], q[2]);
      item_grad[i] = -om * d_sum(q[0], q[1]);
    }
  });

  // Pass 2, the lower side: for b, its higher partners a with s_a < s_b + m.
  order = sort_entries(ex, sw, [=] FR_HD(int64_t i, bool query) {
    return ordered_bits(query ? double(s[i]) + m : double(s[i]));
  });
  auto upper_moments = [=] FR_HD(int64_t i, double* v) {
    const double om = omega[i], sa = double(s[i]);
    v[0] = om; v[1] = om * sa;
    if (weighted) {
      const double ga = double(y[i]);
      v[2] = om * ga; v[3] = om * ga * sa;
    }
  };
  if (weighted) dominance_sums<5>(ex, sw, order, 1, upper_moments, acc);
  else dominance_sums<3>(ex, sw, order, 1, upper_moments, acc);
  const int stride2 = weighted ? 4 : 2;
  ex.for_each(n, [=] FR_HD(int64_t i) {
    const double* q = acc + i * stride2;
    const double tb = double(s[i]) + m;
    auto d_sum = [=](double cnt, double S) { return squared ? 2 * (cnt * tb - S) : cnt; };
    item_grad[i] += weighted ? d_sum(q[2], q[3]) - double(y[i]) * d_sum(q[0], q[1]) : d_sum(q[0], q[1]);
  });

  finish_lists<T>(ex, a, w);
  return ex.error();
}

}  // namespace device
}  // namespace fastrank
