// Dominance sums on the device with sorts and scans only: for every item a, sums over the
// items b of its list that come before a in a sort order and lie on a lower (or higher)
// level — the question the CPU kernels answer with a sequential Fenwick sweep over levels
// (docs/algorithms.md §1, §5). Used by the O(n log n) pairwise hinge and Kendall τ-b.
//
// Each item enters twice, as a point (its moments) and as a query (where its sums are
// wanted), in one array sorted by (list, key) with a query ahead of a point of equal key
// (the comparisons are strict). Then, for each bit k of the level from the top, as in a
// wavelet tree: the array is ordered by (list, level >> (k+1)) and within that by key; a
// query whose bit k is 1 adds the sums of the earlier points of its group whose bit k is 0
// (one exclusive scan by group), which are exactly its partners whose highest differing
// level bit is k; then each group is split stably by bit k (0s first), which orders the
// array by (list, level >> k) for the next bit. Every pair on different levels is counted
// at exactly one bit. A pass is a scan and a scatter over 2n entries, and there are
// log2(most distinct levels in a list) of them; the sorts are CUB radix sorts on CUDA.
// Also used, without the entries, for ranks by sorting (LambdaRank truncated at k).
#pragma once

#include "device_common.h"

namespace fastrank {
namespace device {

// Lists sorted by (list, key): each item's level in its list, and where each level starts.
struct LevelIndex {
  const int64_t* offsets = nullptr;
  const int64_t* first = nullptr;     // first[offsets[g] + l]: sorted position of level l's first item
  const int64_t* n_levels = nullptr;  // levels of each list
  // Items of list g on levels below x.
  FR_HD int64_t below(int64_t g, int64_t x) const {
    return (x < n_levels[g] ? first[offsets[g] + x] : offsets[g + 1]) - offsets[g];
  }
};

// Sums a pass carries: the count of entries on bit 0 (for the split) plus up to 6 moments.
constexpr int kMaxSums = 7;

// The arrays of a sweep over n items in n_lists lists (of at most `longest` items).
struct SweepWork {
  int64_t n_items = 0, n_lists = 0;
  int list_bits = 0;
  int level_bits = 0;  // set by rank_levels
  int64_t longest = 0;  // a bound on the list lengths (levels per list)
  int64_t* list_id = nullptr;
  int64_t* level = nullptr;     // each item's level in its list
  int64_t* position = nullptr;  // each item's place in the (list, key, index) order of rank_levels
  int64_t* first = nullptr;     // LevelIndex::first
  int64_t* n_levels = nullptr;  // per list
  int64_t* flags = nullptr;     // scratch of rank_levels
  int64_t* rank = nullptr;
  int64_t* most_levels = nullptr;  // levels of the list with the most
  double* acc = nullptr;        // the sums, (kMaxSums - 1) per item
  LevelIndex levels;
  uint64_t* keys[2] = {nullptr, nullptr};
  int64_t* codes[2] = {nullptr, nullptr};  // an item i as a point is i, as a query ~i
  double* values = nullptr;                 // scan input, kMaxSums doubles per entry
  double* prefix = nullptr;                 // scan output, the same
  void* temp = nullptr;
  size_t temp_bytes = 0;
};

// The arrays of a sweep. With entries = false only what rank_levels needs: sort_entries and
// dominance_sums need the 2n entries and their sums.
template <typename Exec>
SweepWork carve_sweep(const Exec& ex, Carver& c, const int64_t* offsets, int64_t n, int64_t n_lists, int64_t longest,
                      bool entries = true) {
  SweepWork sw;
  const int64_t n_sorted = entries ? 2 * n : n;
  sw.n_items = n;
  sw.n_lists = n_lists;
  sw.list_bits = bits_below(n_lists);
  sw.longest = longest;
  sw.list_id = c.take<int64_t>(n);
  sw.level = c.take<int64_t>(n);
  sw.position = c.take<int64_t>(n);
  sw.first = c.take<int64_t>(n);
  sw.n_levels = c.take<int64_t>(n_lists);
  sw.flags = c.take<int64_t>(n);
  sw.rank = c.take<int64_t>(n);
  sw.most_levels = c.take<int64_t>(1);
  for (int b = 0; b < 2; ++b) {
    sw.keys[b] = c.take<uint64_t>(n_sorted);
    sw.codes[b] = c.take<int64_t>(n_sorted);
  }
  sw.temp_bytes = std::max({ex.sort_temp_bytes(n_sorted, 64), ex.sort_temp_bytes(n_sorted, sw.list_bits),
                            ex.template inclusive_sum_temp_bytes<int64_t>(n), ex.max_temp_bytes(n_lists)});
  if (entries) {
    sw.acc = c.take<double>(n * (kMaxSums - 1));
    sw.values = c.take<double>(n_sorted * kMaxSums);
    sw.prefix = c.take<double>(n_sorted * kMaxSums);
    sw.temp_bytes = std::max({sw.temp_bytes, ex.template scan_by_key_temp_bytes<Sums<7>>(n_sorted),
                              ex.template scan_by_key_temp_bytes<Sums<6>>(n_sorted),
                              ex.template scan_by_key_temp_bytes<Sums<5>>(n_sorted),
                              ex.template scan_by_key_temp_bytes<Sums<4>>(n_sorted),
                              ex.template scan_by_key_temp_bytes<Sums<3>>(n_sorted),
                              ex.template scan_by_key_temp_bytes<Sums<2>>(n_sorted)});
  }
  sw.temp = c.bytes(sw.temp_bytes);
  sw.levels.offsets = offsets;
  sw.levels.first = sw.first;
  sw.levels.n_levels = sw.n_levels;
  return sw;
}

// Each item's list (into sw.list_id); call first.
template <typename Exec>
void assign_lists(const Exec& ex, const SweepWork& sw) {
  const int64_t* off = sw.levels.offsets;
  const int64_t n_lists = sw.n_lists;
  int64_t* list_id = sw.list_id;
  ex.for_each(sw.n_items, [=] FR_HD(int64_t i) { list_id[i] = list_of(off, n_lists, i); });
}

// Levels of key_of(i) within each list (sw.level, sw.first, sw.n_levels) and each item's
// place in the order (sw.position): items sorted stably by (list, key), so equal keys keep
// index order; a level starts where the list or the key changes. Sets sw.level_bits to the
// bits the levels need, which is how many passes dominance_sums makes: 2 for 4 target
// values however long the lists (read back from the device; log2(longest) while a CUDA
// graph is captured).
template <typename Exec, typename KeyOf>
void rank_levels(const Exec& ex, SweepWork& sw, KeyOf key_of) {
  const int64_t n = sw.n_items;
  const int64_t* off = sw.levels.offsets;
  const int64_t* list_id = sw.list_id;
  uint64_t* k0 = sw.keys[0];
  uint64_t* k1 = sw.keys[1];
  int64_t* c0 = sw.codes[0];
  int64_t* c1 = sw.codes[1];
  int64_t* flags = sw.flags;
  int64_t* rank = sw.rank;
  int64_t* level = sw.level;
  int64_t* position = sw.position;
  int64_t* first = sw.first;
  int64_t* n_levels = sw.n_levels;
  ex.for_each(n, [=] FR_HD(int64_t i) {
    k0[i] = key_of(i);
    c0[i] = i;
  });
  ex.sort_pairs(k0, k1, c0, c1, n, 64, sw.temp, sw.temp_bytes);
  const int64_t* sorted = c1;
  if (sw.n_lists > 1) {
    ex.for_each(n, [=] FR_HD(int64_t p) { k0[p] = uint64_t(list_id[c1[p]]); });
    ex.sort_pairs(k0, k1, c1, c0, n, sw.list_bits, sw.temp, sw.temp_bytes);
    sorted = c0;
  }
  ex.for_each(n, [=] FR_HD(int64_t p) {
    const int64_t i = sorted[p];
    flags[p] = p == off[list_id[i]] || key_of(i) != key_of(sorted[p - 1]);
  });
  ex.inclusive_sum(flags, rank, n, sw.temp, sw.temp_bytes);
  ex.for_each(n, [=] FR_HD(int64_t p) {
    const int64_t i = sorted[p], g = list_id[i];
    const int64_t l = rank[p] - rank[off[g]];
    level[i] = l;
    position[i] = p;
    if (flags[p]) first[off[g] + l] = p;
  });
  ex.for_each(sw.n_lists, [=] FR_HD(int64_t g) {
    n_levels[g] = off[g + 1] > off[g] ? rank[off[g + 1] - 1] - rank[off[g]] + 1 : 0;
  });
  ex.max(n_levels, sw.n_lists, sw.most_levels, sw.temp, sw.temp_bytes);
  sw.level_bits = bits_below(ex.read_back(sw.most_levels, sw.longest));
}

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

// sw.acc[item * (M-1) + q] = Σ moments_q of the points before the item's query (in the sorted
// entries `codes`) in the same list, on levels below (point_bit 0) or above (point_bit 1)
// the query's. moments(item, double* out) writes M-1 values.
template <int M, typename Exec, typename Moments>
void dominance_sums(const Exec& ex, const SweepWork& sw, int64_t* codes, int point_bit, Moments moments) {
  static_assert(M <= kMaxSums, "values are carved for kMaxSums sums per entry");
  using V = Sums<M>;
  const int64_t n = sw.n_items, n_entries = 2 * n;
  double* acc = sw.acc;
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
      // Always inside the list's entries; the guard keeps a call whose level bits came from
      // a `longest` that is too short (inside a graph capture; its offsets are reported bad)
      // from writing outside them.
      if (dest >= 2 * levels.offsets[g] && dest < 2 * levels.offsets[g + 1]) to[dest] = code;
    });
    int64_t* t = from;
    from = to;
    to = t;
  }
}

}  // namespace device
}  // namespace fastrank
