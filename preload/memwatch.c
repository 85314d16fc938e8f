/* memwatch.c - placeholder: memory watching not built yet (issue 4). */
#include "shim.h"

void wedge_mem_init(void) {}
void wedge_mem_after_fork_child(void) {}
void wedge_mem_thread_start(void) {}
void *wedge_mem_alloc(size_t size, size_t align, uint64_t site) { return NULL; }
int wedge_mem_owns(const void *p) { return 0; }
void wedge_mem_free(void *p) {}
size_t wedge_mem_usable_size(const void *p) { return 0; }
int wedge_mem_io_begin(const void *buf, size_t len) { return 0; }
void wedge_mem_io_end(int cookie) {}
int wedge_mem_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *rc) { return 0; }
