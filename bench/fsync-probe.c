/* The disk's cost of one durable log write, as the Raft log pays it: NROUNDS x 400 writes of 512 bytes, each followed
 * by fsync (append, as RaftKv's log does today), fdatasync (append), or fdatasync into a file zero-filled ahead of time
 * (no metadata to commit: what a pre-zeroed segment would pay). Prints p50/p90/p99 in microseconds per mode.
 * Build and run in the directory to probe (the data directory's file system):
 *   gcc -O2 -o /tmp/fsync-probe bench/fsync-probe.c && (cd $DATA_DIR && /tmp/fsync-probe)                      */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NROUNDS 4
#define WRITES 400

static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

static void run(const char *name, int mode) {
  const char *path = "fsync-probe.tmp";
  unlink(path);
  int fd = open(path, O_CREAT | O_RDWR, 0644);
  if (fd < 0) { perror("open"); exit(1); }
  char buf[512];
  memset(buf, 'x', sizeof buf);
  if (mode == 2) { /* zero-fill 8 MiB ahead, made durable once */
    char zero[65536];
    memset(zero, 0, sizeof zero);
    for (int i = 0; i < 128; i++) if (write(fd, zero, sizeof zero) != sizeof zero) { perror("write"); exit(1); }
    fsync(fd);
  }
  double lat[WRITES];
  for (int i = 0; i < WRITES; i++) {
    double start = now_us();
    if (pwrite(fd, buf, sizeof buf, (off_t)i * sizeof buf) != sizeof buf) { perror("pwrite"); exit(1); }
    if (mode == 0) fsync(fd); else fdatasync(fd);
    lat[i] = now_us() - start;
  }
  qsort(lat, WRITES, sizeof lat[0], cmp);
  printf("%-22s p50 %6.0f us  p90 %6.0f us  p99 %6.0f us\n", name, lat[WRITES / 2], lat[WRITES * 9 / 10], lat[WRITES * 99 / 100]);
  close(fd);
  unlink(path);
}

int main(void) {
  for (int r = 0; r < NROUNDS; r++) {
    run("append+fsync", 0);
    run("append+fdatasync", 1);
    run("prezeroed+fdatasync", 2);
  }
  return 0;
}
