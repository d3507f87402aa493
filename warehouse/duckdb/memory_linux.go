//go:build linux && cgo

package duckdb

/*
#include <stddef.h>
#include <malloc.h>

// DuckDB's jemalloc (its Linux builds allocate through it), by its
// prefixed name; weak, so that a build without it links and says so.
extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen) __attribute__((weak));

// dataops_malloc_arenas makes glibc's malloc serve every thread from one
// arena; 0 when it took the setting.
static int dataops_malloc_arenas(void) {
#ifdef M_ARENA_MAX
	return mallopt(M_ARENA_MAX, 1) == 1 ? 0 : -1;
#else
	return -1;
#endif
}

// dataops_je_purge hands the unused pages of every jemalloc arena back to
// the system; 0, or -1 when DuckDB's jemalloc is not there.
static int dataops_je_purge(void) {
	if (duckdb_je_mallctl == NULL) {
		return -1;
	}
	// 4096 is MALLCTL_ARENAS_ALL.
	return duckdb_je_mallctl("arena.4096.purge", NULL, NULL, NULL, 0) == 0 ? 0 : -1;
}
*/
import "C"

import "errors"

// releaseMallocArenas is the first half of ReleaseMemoryOption: glibc's
// malloc (DuckDB's C++ objects) keeps one arena for all threads, instead
// of one per thread that allocated, each holding freed memory of its own.
func releaseMallocArenas() error {
	if C.dataops_malloc_arenas() != 0 {
		return errors.New("malloc arenas cannot be limited (not glibc)")
	}
	return nil
}

// purgeAllocator is the second half of ReleaseMemoryOption: DuckDB's
// jemalloc hands the pages it holds unused (for a decay time of 1 s, in
// DuckDB's configuration) back to the system now.
func purgeAllocator() error {
	if C.dataops_je_purge() != 0 {
		return errors.New("DuckDB's jemalloc is not linked in")
	}
	return nil
}
