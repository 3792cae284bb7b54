/* stub_linked.c — the negative control of the no_driver test: linked against the CUDA toolkit's
 * libcuda stub the usual way, so the dynamic loader needs libcuda.so.1 before main runs. */
#include <cuda.h>
#include <stdio.h>

int main(void)
{
    CUresult r = cuInit(0);
    printf("cuInit returned %d\n", (int)r);
    return 0;
}
