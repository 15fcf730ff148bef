// Entry points of the CPU list kernels. Arguments are raw pointers into tensors that
// Python has already checked (dtype, contiguity, shapes, offsets); each kernel returns
// a Status word for what only a pass over the data can find (non-finite values).
#pragma once

#include <cstdint>

namespace fastrank {

enum class DType : int { kFloat32 = 0, kFloat64 = 1 };

// Bits of the status word the kernels return; Python turns them into ValueErrors.
enum Status : int {
  kOk = 0,
  kNonFiniteScores = 1,
  kNonFiniteTargets = 2,
  kGainOverflow = 4,
};


// Lists: items offsets[g] .. offsets[g+1]-1 of scores/targets form list g.
// Outputs: list_loss[g] = Σ over the list's pairs, grad = ∂(Σ_g list_loss[g]) / ∂scores,
// list_pairs[g] = number of pairs with different targets in list g.
struct ListArgs {
  DType dtype = DType::kFloat32;
  const void* scores = nullptr;
  const void* targets = nullptr;
  const int64_t* offsets = nullptr;
  int64_t n_lists = 0;
  void* list_loss = nullptr;
  void* grad = nullptr;
  void* list_pairs = nullptr;
};

struct PairwiseHingeArgs : ListArgs {
  double margin = 1.0;
  bool squared = false;
  bool weighted = false;  // pair weight y_a - y_b
};

struct PairwiseLogisticArgs : ListArgs {
  double sigma = 1.0;
};

enum class Gain : int { kExp2 = 0, kLinear = 1 };
enum class PairLoss : int { kLogistic = 0, kHinge = 1, kSquaredHinge = 2 };

struct LambdaRankArgs : ListArgs {
  int64_t k = -1;  // truncation of NDCG@k; -1 means the whole list
  Gain gain = Gain::kExp2;
  PairLoss pair_loss = PairLoss::kLogistic;
  double sigma = 1.0;
  double margin = 1.0;
};

int pairwise_hinge_cpu(const PairwiseHingeArgs& args);
int pairwise_logistic_cpu(const PairwiseLogisticArgs& args);
int lambdarank_cpu(const LambdaRankArgs& args);

}  // namespace fastrank
