// The host twin of every device algorithm (device_api.h): the item functions the CUDA
// kernels run, executed as loops, so the GPU's algorithms are tested on any machine.
#include "device_api.h"
#include "graph_device.h"
#include "hinge_sweep_device.h"
#include "kendall_device.h"
#include "lambdarank_topk_device.h"
#include "list_device.h"

namespace fastrank {
namespace device {

#define FASTRANK_DEFINE_TWIN_OP(NAME, ARGS) FASTRANK_DEFINE_DEVICE_OP(NAME, ARGS, twin, HostExec)
FASTRANK_DEVICE_OPS(FASTRANK_DEFINE_TWIN_OP)

}  // namespace device
}  // namespace fastrank
