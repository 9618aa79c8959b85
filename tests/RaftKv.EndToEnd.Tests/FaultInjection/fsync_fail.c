/*
 * TEST-ONLY fault injection, never shipped: an LD_PRELOAD shim that makes fsync(2) and fdatasync(2)
 * fail with EIO, so a real raftkv process can be shown to fail-stop on a failed fsync without any
 * hook in the production code. FsyncFaultShim.cs compiles it with the system C compiler at test time.
 *
 *   RAFTKV_TEST_FSYNC_FAIL_FLAG   path of a flag file; while it exists, matching fsyncs fail
 *   RAFTKV_TEST_FSYNC_FAIL_MATCH  substring of the file's path (from /proc/self/fd); empty: every file
 *
 * Only calls that go through the dynamic linker's global scope are caught: .NET's FileStream.Flush(true)
 * (libSystem.Native's fsync) is; PhysicalFileSystem.SyncDirectory's own dlsym'd libc fsync is not.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int should_fail(int fd)
{
    const char *flag = getenv("RAFTKV_TEST_FSYNC_FAIL_FLAG");
    if (flag == NULL || *flag == '\0' || access(flag, F_OK) != 0)
        return 0;

    const char *match = getenv("RAFTKV_TEST_FSYNC_FAIL_MATCH");
    if (match == NULL || *match == '\0')
        return 1;

    char link[64];
    char path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return 0;

    path[n] = '\0';
    return strstr(path, match) != NULL;
}

int fsync(int fd)
{
    static int (*real)(int);
    if (should_fail(fd)) {
        errno = EIO;
        return -1;
    }

    if (real == NULL)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real(fd);
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (should_fail(fd)) {
        errno = EIO;
        return -1;
    }

    if (real == NULL)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}
