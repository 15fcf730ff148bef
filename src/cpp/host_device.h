// FR_HD marks functions that both the C++ kernels and the CUDA kernels call.
#pragma once

#if defined(__CUDACC__)
#define FR_HD __host__ __device__
#else
#define FR_HD
#endif
