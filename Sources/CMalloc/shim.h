/* glibc's allocator controls for the engine's memory policy (ColumnMemory). Elsewhere
 * (musl, macOS) the calls report that they did nothing. */
#if defined(__linux__)
#include <features.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* One arena, no per-block mappings, free memory kept up to trim_threshold at the top of
 * the heap. Returns 1 when glibc took every setting, else 0. */
static inline int mlsh_malloc_keep_freed(int trim_threshold) {
#if defined(__GLIBC__)
    return mallopt(M_ARENA_MAX, 1) == 1 && mallopt(M_MMAP_MAX, 0) == 1
        && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1;
#else
    (void)trim_threshold;
    return 0;
#endif
}

/* Bytes in free chunks of the heap (resident or already handed back). */
static inline long mlsh_malloc_free_bytes(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    return (long)mallinfo2().fordblks;
#elif defined(__GLIBC__)
    return (long)(unsigned)mallinfo().fordblks;
#else
    return 0;
#endif
}

/* 1 when the block at p (from malloc) has its own mapping, which glibc unmaps on free;
 * 0 when it lies in a heap; -1 where this is not glibc. Reads the chunk's size field,
 * whose IS_MMAPPED bit glibc keeps just before the block. */
static inline int mlsh_malloc_is_mapped(const void *p) {
#if defined(__GLIBC__)
    return (((const size_t *)p)[-1] & 0x2) != 0;
#else
    (void)p;
    return -1;
#endif
}

/* Hands free pages back to the system. */
static inline void mlsh_malloc_trim(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
