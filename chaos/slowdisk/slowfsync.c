// slowfsync: an LD_PRELOAD shim that delays fsync/fdatasync/sync_file_range by a number of
// milliseconds read, at every call, from the file named by SLOW_FSYNC_CONTROL (absent, empty or 0 =
// no delay). The control file lets a script slow one node down and back up while it runs, e.g. the
// node that turned out to be a follower. Linux only; used by bench/slow-disk.sh, never in production.
//   build: gcc -shared -fPIC -O2 -o libslowfsync.so slowfsync.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long delay_ms(void) {
    const char *path = getenv("SLOW_FSYNC_CONTROL");
    if (path == NULL) return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[32] = {0};
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

static void pause_ms(long ms) {
    if (ms <= 0) return;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) { }
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    pause_ms(delay_ms());
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    pause_ms(delay_ms());
    return real(fd);
}

int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
    static int (*real)(int, off64_t, off64_t, unsigned int);
    if (!real) real = (int (*)(int, off64_t, off64_t, unsigned int))dlsym(RTLD_NEXT, "sync_file_range");
    pause_ms(delay_ms());
    return real(fd, offset, nbytes, flags);
}
