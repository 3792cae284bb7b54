// expect: ok
// problem: small-groups4
// deterministic: false
// Correct but not bitwise reproducible. Launch 1 sets y to the bias (or 0). Launch 2 gives every
// product term x*w its own work item and adds it into y with atomicAdd: item t is term
// k = t / Y_ELEMS of output o = t % Y_ELEMS, so the CIN_G*KH*KW terms of one output (36 here)
// come from 36 different blocks. Before its first term each thread also waits a pseudo-random
// 0..4095 clock cycles seeded from %globaltimer (a nanosecond clock that differs from run to
// run), so the order in which the atomics reach each output changes between runs. Float addition
// is not associative, so the last bits of y differ from run to run while staying well within
// tolerance: the verdict is ok and the determinism check reports false. A grid-stride loop keeps
// the grid bounded (min(..., SMS * 32) blocks) for any problem size.
// @kgrade launch init_bias grid(cdiv(Y_ELEMS, 256)) block(256) args(bias, y, Y_ELEMS:i64, C_out, H_out * W_out:i64)
// @kgrade launch conv_atomic grid(min(cdiv(Y_ELEMS * CIN_G * KH * KW, 256), SMS * 32)) block(256) args(x, w, y, Y_ELEMS:i64, C_in, H, W, C_out, KH, KW, SH, SW, PH, PW, DH, DW, G, H_out, W_out)

extern "C" __global__ void init_bias(const float *__restrict__ bias, float *__restrict__ y,
                                     long long y_elems, int C_out, long long hw_out)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < y_elems)
        y[i] = bias ? bias[i / hw_out % C_out] : 0.0f;
}

extern "C" __global__ void conv_atomic(const float *__restrict__ x, const float *__restrict__ w,
                                       float *y, long long y_elems, int C_in, int H, int W,
                                       int C_out, int KH, int KW, int SH, int SW, int PH, int PW,
                                       int DH, int DW, int G, int H_out, int W_out)
{
    const int cin_g = C_in / G, cout_g = C_out / G, kk = KH * KW;
    const long long total = y_elems * cin_g * kk;
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;

    // Run-dependent start delay: hash the nanosecond timer with the thread's index.
    unsigned long long ns;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(ns));
    unsigned h = (unsigned)(ns ^ (ns >> 17)) * 2654435761u ^ (unsigned)t * 0x9E3779B9u;
    h ^= h >> 15;
    long long start = clock64();
    while (clock64() - start < (long long)(h & 4095u)) {
    }

    for (; t < total; t += (long long)gridDim.x * blockDim.x) {
        long long o = t % y_elems;
        int k = (int)(t / y_elems);
        int ci = k / kk, kh = k % kk / KW, kw = k % KW;
        int ow = (int)(o % W_out), oh = (int)(o / W_out % H_out);
        long long nco = o / ((long long)W_out * H_out);  // n * C_out + co
        int co = (int)(nco % C_out), n = (int)(nco / C_out), g = co / cout_g;
        long long ih = (long long)oh * SH - PH + (long long)kh * DH;
        long long iw = (long long)ow * SW - PW + (long long)kw * DW;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W)
            continue;
        float v = x[(((long long)n * C_in + (long long)g * cin_g + ci) * H + ih) * W + iw]
                  * w[((long long)co * cin_g + ci) * kk + kh * KW + kw];
        atomicAdd(&y[o], v);
    }
}
