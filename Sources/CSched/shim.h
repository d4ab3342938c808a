/* The calling thread's time slice under Linux's EEVDF scheduler (6.12+): a thread that
 * asks for a short slice gets an earlier deadline when it wakes, so it runs sooner on a
 * busy machine, and yields sooner when it runs long. glibc 2.36 has no wrapper for
 * sched_setattr/sched_getattr; the structure is the kernel's first version (48 bytes). */
#include <stdint.h>
#if defined(__linux__)
#include <unistd.h>
#include <sys/syscall.h>
#include <errno.h>

struct mlsh_sched_attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
};

/* The slice the calling thread runs with, in nanoseconds; 0 when it cannot be read. */
static inline uint64_t mlsh_thread_slice(void) {
    struct mlsh_sched_attr a = {0};
    if (syscall(SYS_sched_getattr, 0, &a, (unsigned)sizeof a, 0) != 0) return 0;
    return a.runtime;
}

/* Asks for a slice of `ns` nanoseconds for the calling thread, keeping its policy
 * (SCHED_OTHER) and nice value. 0 on success, else an errno. Kernels before 6.12 accept
 * the call and keep their slice; mlsh_thread_slice tells. */
static inline int mlsh_request_slice(uint64_t ns) {
    struct mlsh_sched_attr a = {0};
    if (syscall(SYS_sched_getattr, 0, &a, (unsigned)sizeof a, 0) != 0) return errno;
    if (a.policy != 0) return EPERM;   /* not SCHED_OTHER: leave it alone */
    a.size = sizeof a;
    a.flags = 0;
    a.runtime = ns;
    return syscall(SYS_sched_setattr, 0, &a, 0) == 0 ? 0 : errno;
}
#else
static inline uint64_t mlsh_thread_slice(void) { return 0; }
static inline int mlsh_request_slice(uint64_t ns) { (void)ns; return 38; /* ENOSYS */ }
#endif
