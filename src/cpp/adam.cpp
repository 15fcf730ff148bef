// torch.optim.Adam's update for many small tensors in one call: at a NAS predictor's size
// (~10^4 parameters in ~10 tensors) the per-tensor, per-op dispatch of the Python optimizer
// costs more than the arithmetic.
#include <cmath>

#include "kernels.h"
#include "cpu_targets.h"

namespace fastrank {
namespace {

template <typename T>
struct Coefficients {
  T l2, decay, one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step_size;
};

// The operations of torch's single-tensor Adam in its order, with the scalars rounded to T
// as torch does for a T tensor, so results agree up to vectorised rounding. The flags are
// template arguments so that each variant's loop has no branch and vectorises.
template <typename T, bool kMaximize, bool kAmsgrad>
FASTRANK_INLINE void update(T* __restrict p, const T* __restrict grad, T* __restrict m, T* __restrict v,
                            T* __restrict v_max, int64_t n, const Coefficients<T>& c) {
  for (int64_t k = 0; k < n; ++k) {
    const T pk = p[k] * c.decay;  // decay is exactly 1 unless the weight decay is decoupled
    const T g = (kMaximize ? -grad[k] : grad[k]) + c.l2 * pk;
    const T mk = m[k] + c.one_minus_beta1 * (g - m[k]);
    T vk = v[k] * c.beta2 + c.one_minus_beta2 * (g * g);
    m[k] = mk;
    v[k] = vk;
    if (kAmsgrad) {
      vk = vk > v_max[k] ? vk : v_max[k];
      v_max[k] = vk;
    }
    p[k] = pk + c.neg_step_size * (mk / (std::sqrt(vk) / c.bc2_sqrt + c.eps));
  }
}

template <typename T>
FASTRANK_INLINE void adam(const AdamArgs& a) {
  for (int64_t t = 0; t < a.count; ++t) {
    double step;
    if (a.step_dtype == DType::kFloat64)
      step = ++*static_cast<double*>(a.steps[t]);
    else
      step = double(++*static_cast<float*>(a.steps[t]));
    const double bc1 = 1.0 - std::pow(a.beta1, step), bc2 = 1.0 - std::pow(a.beta2, step);
    const bool decoupled = a.decoupled_weight_decay && a.weight_decay != 0.0;
    const Coefficients<T> c{T(decoupled ? 0.0 : a.weight_decay),
                            T(decoupled ? 1.0 - a.lr * a.weight_decay : 1.0),
                            T(1.0 - a.beta1),
                            T(a.beta2),
                            T(1.0 - a.beta2),
                            T(std::sqrt(bc2)),
                            T(a.eps),
                            T(-(a.lr / bc1))};
    T* p = static_cast<T*>(a.params[t]);
    const T* g = static_cast<const T*>(a.grads[t]);
    T* m = static_cast<T*>(a.exp_avg[t]);
    T* v = static_cast<T*>(a.exp_avg_sq[t]);
    T* v_max = a.amsgrad ? static_cast<T*>(a.max_exp_avg_sq[t]) : nullptr;
    const int64_t n = a.numels[t];
    if (a.maximize)
      a.amsgrad ? update<T, true, true>(p, g, m, v, v_max, n, c) : update<T, true, false>(p, g, m, v, v_max, n, c);
    else
      a.amsgrad ? update<T, false, true>(p, g, m, v, v_max, n, c) : update<T, false, false>(p, g, m, v, v_max, n, c);
  }
}

FASTRANK_MULTIVERSION(void, adam_float, (const AdamArgs& a), (a), adam<float>)
FASTRANK_MULTIVERSION(void, adam_double, (const AdamArgs& a), (a), adam<double>)

}  // namespace

void adam_step_cpu(const AdamArgs& args) {
  if (args.dtype == DType::kFloat64)
    adam_double(args);
  else
    adam_float(args);
}

}  // namespace fastrank
