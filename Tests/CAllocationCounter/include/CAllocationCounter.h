#ifndef CALLOCATIONCOUNTER_H
#define CALLOCATIONCOUNTER_H

/// Heap allocations (malloc, calloc, realloc, memalign, aligned_alloc, posix_memalign) made so far by the
/// calling thread. Counting per thread keeps tests running in parallel on other threads out of the figure.
unsigned long long allocation_counter_thread_count(void);

/// 1 when allocations are counted; 0 when the counter is compiled out (not glibc, or a sanitizer build,
/// whose runtime owns malloc), and the count stays 0.
int allocation_counter_available(void);

#endif
