/* How long a thread that wakes up waits for a CPU on this machine: sleeps 200 µs in a loop for SECONDS and counts the
 * wake-ups that came more than 0.5 / 1 / 2 ms late (the scheduler's run-queue wait plus the VM's vCPU wake-up). Run it
 * idle, then next to a benchmark, to tell a system's own slow steps from the machine's (BENCHMARKS.md, "Where the
 * single-client tail goes").
 *   gcc -O2 -o /tmp/stall-probe bench/stall-probe.c && /tmp/stall-probe 15                                          */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 10;
    long end = now_ns() + seconds * 1000000000L, n = 0, late05 = 0, late1 = 0, late2 = 0, worst = 0;
    struct timespec nap = {0, 200000};
    while (now_ns() < end)
    {
        long start = now_ns();
        nanosleep(&nap, 0);
        long late = now_ns() - start - 200000;
        n++;
        late05 += late > 500000;
        late1 += late > 1000000;
        late2 += late > 2000000;
        if (late > worst)
            worst = late;
    }

    printf("%ld sleeps of 200 us; woke > 0.5 ms late %ld, > 1 ms %ld, > 2 ms %ld; worst %.2f ms\n", n, late05, late1, late2, worst / 1e6);
    return 0;
}
