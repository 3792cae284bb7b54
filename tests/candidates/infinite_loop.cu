// expect: timeout
// problem: small-3x3
// Each thread computes its output, then waits at a hand-made "all blocks done" barrier for a
// device-global flag that nothing ever sets (the code that would set it is missing; the host
// never writes it either). The flag is read through a volatile pointer: every iteration is a
// real load that the compiler may neither hoist out of the loop nor delete, and a loop that
// performs a volatile access is not one the compiler may assume to terminate. So the kernel
// never finishes and the worker must hit its time limit.
// @kgrade launch conv_wait grid(cdiv(Y_ELEMS, 256)) block(256) args(x, w, y, N, C_in, H, W, C_out, KH, KW, H_out, W_out)

__device__ int kg_all_done;  // zero at module load, never written

extern "C" __global__ void conv_wait(const float *__restrict__ x, const float *__restrict__ w,
                                     float *__restrict__ y, int N, int C_in, int H, int W,
                                     int C_out, int KH, int KW, int H_out, int W_out)
{
    // Plain 3x3-style conv (stride 1, no padding, one group) for the problem at hand.
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (long long)N * C_out * H_out * W_out) {
        int ow = (int)(i % W_out), oh = (int)(i / W_out % H_out);
        int co = (int)(i / ((long long)W_out * H_out) % C_out);
        int n = (int)(i / ((long long)W_out * H_out * C_out));
        float acc = 0.0f;
        for (int ci = 0; ci < C_in; ++ci)
            for (int kh = 0; kh < KH; ++kh)
                for (int kw = 0; kw < KW; ++kw)
                    acc += x[(((long long)n * C_in + ci) * H + oh + kh) * W + ow + kw]
                           * w[(((long long)co * C_in + ci) * KH + kh) * KW + kw];
        y[i] = acc;
    }
    volatile int *done = &kg_all_done;
    while (*done == 0) {
        // BUG: waits forever, nothing sets kg_all_done
    }
}
