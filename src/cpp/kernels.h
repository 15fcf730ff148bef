// Entry points of the CPU list kernels. Arguments are raw pointers into tensors that
// Python has already checked (dtype, contiguity, shapes, offsets); each kernel returns
// a Status word for what only a pass over the data can find (non-finite values).
#pragma once

#include <cstdint>

namespace fastrank {

// Option tags: small enums that Python passes as ints. Each is declared once, as a list
// X(enumerator, "name") whose order gives the values 0, 1, ... and whose names are how Python
// spells the option; TagNames<E> carries them, bindings.cpp exports every tag as
// _C.TAGS["<option>"] = {name: value} and checks the ints it receives against it, and Python reads
// _C.TAGS, so no tag value is written anywhere else.
#define FASTRANK_ENUMERATOR(ID, NAME) ID,
#define FASTRANK_ENUMERATOR_NAME(ID, NAME) NAME,

template <typename Tag>
struct TagNames;  // option: the argument that carries the tag; names: by value

#define FASTRANK_TAG_NAMES(ENUM, OPTION, LIST)                                 \
  template <>                                                                  \
  struct TagNames<ENUM> {                                                      \
    static constexpr const char* option = OPTION;                              \
    static constexpr const char* names[] = {LIST(FASTRANK_ENUMERATOR_NAME)};   \
    static constexpr int count = int(sizeof(names) / sizeof(names[0]));        \
  };

#define FASTRANK_DTYPES(X) X(kFloat32, "float32") X(kFloat64, "float64")
enum class DType : int { FASTRANK_DTYPES(FASTRANK_ENUMERATOR) };
FASTRANK_TAG_NAMES(DType, "dtype", FASTRANK_DTYPES)

// Bits of the status word the kernels return: X(enumerator, bit, key, message). Python raises a
// ValueError with the message (callers may reword it per key) of the first bit set in this order,
// which is not the bits' order: a graph with bad weights and bad op ids is reported for its weights.
#define FASTRANK_STATUS_BITS(X)                                                                                 \
  X(kNonFiniteScores, 1, "nonfinite_scores", "scores contain NaN or infinity")                                  \
  X(kNonFiniteTargets, 2, "nonfinite_targets", "targets contain NaN or infinity")                               \
  X(kGainOverflow, 4, "gain_overflow",                                                                          \
    "targets above 1000 overflow the exp2 gain 2**y - 1; use gain='linear' or map the targets to relevance "     \
    "grades first")                                                                                             \
  X(kBadOffsets, 8, "bad_offsets", "offsets must start at 0, never decrease, and end at the number of items")   \
  X(kBadAdjacency, 64, "bad_adjacency", "adj must be finite and non-negative")                                  \
  X(kBadCodes, 16, "bad_codes", "op ids or codes out of range")                                                 \
  X(kBadShape, 32, "bad_shape",                                                                                 \
    "graph sizes the native kernels do not take (more nodes than _C.GCN_MAX_NODES, or no layer, feature, "      \
    "hidden unit, op or output)")

#define FASTRANK_STATUS_ENUMERATOR(ID, BIT, KEY, MESSAGE) ID = BIT,
enum Status : int { kOk = 0, FASTRANK_STATUS_BITS(FASTRANK_STATUS_ENUMERATOR) };
#undef FASTRANK_STATUS_ENUMERATOR

struct StatusBit {
  Status bit;
  const char* key;
  const char* message;
};
#define FASTRANK_STATUS_ROW(ID, BIT, KEY, MESSAGE) StatusBit{ID, KEY, MESSAGE},
inline constexpr StatusBit kStatusBits[] = {FASTRANK_STATUS_BITS(FASTRANK_STATUS_ROW)};
#undef FASTRANK_STATUS_ROW

constexpr bool status_bits_are_distinct_bits() {
  int seen = 0;
  for (const StatusBit& s : kStatusBits) {
    if (s.bit <= 0 || (s.bit & (s.bit - 1)) != 0 || (seen & s.bit) != 0) return false;
    seen |= s.bit;
  }
  return true;
}
static_assert(status_bits_are_distinct_bits(), "each status bit is a single bit of its own");

// How per-list pair sums become the output: "none" keeps one value per list, "sum" adds
// them, "mean" divides each list's sum by its number of pairs and averages over the lists
// that have pairs (0 if none has). The gradient is of the reduced output.
#define FASTRANK_REDUCTIONS(X) X(kNone, "none") X(kSum, "sum") X(kMean, "mean")
enum class Reduction : int { FASTRANK_REDUCTIONS(FASTRANK_ENUMERATOR) };
FASTRANK_TAG_NAMES(Reduction, "reduction", FASTRANK_REDUCTIONS)


// Lists: items offsets[g] .. offsets[g+1]-1 of scores/targets (n_items in all) form list g.
// Outputs: out = the reduced loss (n_lists values for Reduction::kNone, else one) and
// grad = ∂(Σ out)/∂scores, both computed in one pass.
struct ListArgs {
  DType dtype = DType::kFloat32;
  const void* scores = nullptr;
  const void* targets = nullptr;
  const int64_t* offsets = nullptr;
  int64_t n_lists = 0;
  int64_t n_items = 0;
  Reduction reduction = Reduction::kMean;
  void* out = nullptr;
  void* grad = nullptr;
};

// Per-better-item weight on its pairs, from v_a = its number of active lower partners
// (WARP with exact ranks, docs/algorithms.md §4): L(v) = Σ_{j<=v} 1/j; held constant for the gradient.
// kWarp weighs by L(v)/v, kWarpSum by L(v).
#define FASTRANK_RANK_WEIGHTS(X) X(kNone, "none") X(kWarp, "warp") X(kWarpSum, "warp_sum")
enum class RankWeight : int { FASTRANK_RANK_WEIGHTS(FASTRANK_ENUMERATOR) };
FASTRANK_TAG_NAMES(RankWeight, "rank_weight", FASTRANK_RANK_WEIGHTS)

struct PairwiseHingeArgs : ListArgs {
  double margin = 1.0;
  bool squared = false;
  bool weighted = false;  // pair weight y_a - y_b
  RankWeight rank_weight = RankWeight::kNone;
};

struct PairwiseLogisticArgs : ListArgs {
  double sigma = 1.0;
};

#define FASTRANK_GAINS(X) X(kExp2, "exp2") X(kLinear, "linear")
enum class Gain : int { FASTRANK_GAINS(FASTRANK_ENUMERATOR) };
FASTRANK_TAG_NAMES(Gain, "gain", FASTRANK_GAINS)

#define FASTRANK_PAIR_LOSSES(X) X(kLogistic, "logistic") X(kHinge, "hinge") X(kSquaredHinge, "squared_hinge")
enum class PairLoss : int { FASTRANK_PAIR_LOSSES(FASTRANK_ENUMERATOR) };
FASTRANK_TAG_NAMES(PairLoss, "pair_loss", FASTRANK_PAIR_LOSSES)

struct LambdaRankArgs : ListArgs {
  int64_t k = -1;  // truncation of NDCG@k; -1 means the whole list
  Gain gain = Gain::kExp2;
  PairLoss pair_loss = PairLoss::kLogistic;
  double sigma = 1.0;
  double margin = 1.0;
};

int pairwise_hinge_cpu(const PairwiseHingeArgs& args);

// Kendall's τ-b of two finite sequences in O(n log n) (docs/algorithms.md §5); NaN when n < 2
// or either sequence is constant, as scipy.stats.kendalltau.
double kendall_tau_b_cpu(DType dtype, const void* x, const void* y, int64_t n);
int pairwise_logistic_cpu(const PairwiseLogisticArgs& args);
int lambdarank_cpu(const LambdaRankArgs& args);

// Enumerable search spaces with a native graph encoding (fastrank.spaces layouts), named as the
// spaces name themselves (SearchSpace.name).
#define FASTRANK_GRAPH_SPACES(X)                                                   \
  X(kNB201, "nb201") X(kTransNASMicro, "tnb101_micro") X(kNASBenchMacro, "nasbench_macro") \
  X(kTransNASMacro, "tnb101_macro")
enum class GraphSpace : int { FASTRANK_GRAPH_SPACES(FASTRANK_ENUMERATOR) };
FASTRANK_TAG_NAMES(GraphSpace, "graph_space", FASTRANK_GRAPH_SPACES)
int64_t graph_space_nodes(GraphSpace space);
int64_t graph_space_size(GraphSpace space);

// codes (n) -> ops (n, N) int64, adjacency (n, N, N) float32/float64, node mask (n, N).
// Returns kBadCodes if a code is outside the space.
int encode_graphs_cpu(GraphSpace space, DType dtype, const int64_t* codes, int64_t n, int64_t* ops, void* adj,
                      bool* mask);

// Directed GCN propagation out = act(½(D_f⁻¹(A+I) + D_b⁻¹(Aᵀ+I)) H) over a batch of graphs:
// h, out, d_out, d_h (batch, nodes, features); adj (batch, nodes, nodes), all one dtype.
struct GcnArgs {
  DType dtype = DType::kFloat32;
  int64_t batch = 0, nodes = 0, features = 0;
  bool relu = false;
  const void* h = nullptr;
  const void* adj = nullptr;
  void* out = nullptr;       // forward: written; backward: read (the forward's output)
  const void* d_out = nullptr;
  void* d_h = nullptr;
};
int64_t gcn_max_nodes();

// Inference of a GCNEncoder: h = relu(M · table[ops]) (the first linear layer already applied
// to the op table), then `layers` × h = relu(M (h Wᵀ + b)), then sum or mean over mask.
struct GcnEncoderArgs {
  DType dtype = DType::kFloat32;
  int64_t batch = 0, nodes = 0, features = 0, layers = 0, table_rows = 0;
  bool mean_pool = true;
  const void* table = nullptr;     // (table_rows, features)
  const int64_t* ops = nullptr;    // (batch, nodes)
  const void* adj = nullptr;       // (batch, nodes, nodes)
  const bool* mask = nullptr;      // (batch, nodes)
  const void* weight_t = nullptr;  // (layers, features, features), each Wᵀ
  const void* bias = nullptr;      // (layers, features)
  void* out = nullptr;             // (batch, features)
};
int gcn_encoder_forward_cpu(const GcnEncoderArgs& args);

// Training of a GCN predictor: a GCNEncoder (op embedding, `layers` × (linear, propagation,
// ReLU), pooling) and an MLP head (features → hidden, ReLU, → `outputs` scores per graph: one
// for a predictor, one per weak label for multi-head pretraining).
// params and grads hold 2·layers + 5 pointers in the module's parameter order: embed
// (table_rows, F); per layer W (F, F) in torch's (out, in) layout, then b (F); head W1 (H, F),
// b1 (H), W2 (outputs, H), b2 (outputs). The forward writes the scores and what the backward reads
// (activations, pooled, head_hidden); the backward writes (does not accumulate) every gradient.
struct GcnPredictorArgs {
  DType dtype = DType::kFloat32;
  int64_t batch = 0, nodes = 0, features = 0, layers = 0, hidden = 0, table_rows = 0, outputs = 1;
  bool mean_pool = true;
  const int64_t* ops = nullptr;     // (batch, nodes)
  const void* adj = nullptr;        // (batch, nodes, nodes)
  const bool* mask = nullptr;       // (batch, nodes)
  const void* const* params = nullptr;
  void* activations = nullptr;      // (layers, batch, nodes, F): each layer's output after ReLU
  void* pooled = nullptr;           // (batch, F)
  void* head_hidden = nullptr;      // (batch, H), after ReLU
  void* scores = nullptr;           // (batch, outputs)
  const void* d_scores = nullptr;   // backward: ∂loss/∂scores (batch, outputs)
  void* const* grads = nullptr;
};
int gcn_predictor_forward_cpu(const GcnPredictorArgs& args);
int gcn_predictor_backward_cpu(const GcnPredictorArgs& args);

// One step of torch.optim.Adam over `count` tensors, in place, with torch's arithmetic:
// exp_avg ← lerp(exp_avg, g, 1-β1), exp_avg_sq ← β2·exp_avg_sq + (1-β2)·g²,
// param -= lr/(1-β1^step) · exp_avg / (sqrt(v)/sqrt(1-β2^step) + eps), where g is the grad
// (negated if maximize) plus weight_decay·param (or, decoupled, param scaled by
// 1 - lr·weight_decay first) and v is exp_avg_sq (amsgrad: its running maximum). Each tensor's step counter (a scalar tensor, as torch keeps
// it) is incremented here and its new value used for the bias corrections.
struct AdamArgs {
  DType dtype = DType::kFloat32;
  int64_t count = 0;
  void* const* params = nullptr;
  const void* const* grads = nullptr;
  void* const* exp_avg = nullptr;
  void* const* exp_avg_sq = nullptr;
  void* const* max_exp_avg_sq = nullptr;  // amsgrad only
  const int64_t* numels = nullptr;
  void* const* steps = nullptr;    // one scalar per tensor, of dtype step_dtype
  DType step_dtype = DType::kFloat32;
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool amsgrad = false, maximize = false, decoupled_weight_decay = false;
};
void adam_step_cpu(const AdamArgs& args);
int gcn_propagate_cpu(const GcnArgs& args);
int gcn_propagate_backward_cpu(const GcnArgs& args);

}  // namespace fastrank
