/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tap.h - minimal TAP output for C test programs that are not cmocka
 * suites (BPF_PROG_TEST_RUN tests). Each check prints "ok N - name" or
 * "not ok N - name" with the failing expression and values.
 *
 *   TAP_CHECK(cond, fmt, ...)        one test point
 *   TAP_EQ(name, got, want)          integer equality, prints both
 *   TAP_SKIP(why, fmt, ...)
 *   return tap_done();               exit status: 0 iff nothing failed
 */
#ifndef CORRAL_TAP_H
#define CORRAL_TAP_H
#include <stdio.h>
#include <stdarg.h>

extern int tap_n, tap_failed;

static inline void tap_point(int ok, const char *file, int line, const char *expr,
			     const char *fmt, ...)
{
	va_list ap;
	tap_n++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - ", ok ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		printf("#   failed at %s:%d: %s\n", file, line, expr);
	fflush(stdout);
}

#define TAP_CHECK(cond, ...) tap_point(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define TAP_EQ(name, got, want) do {                                              \
	long long _g = (long long)(got), _w = (long long)(want);                  \
	tap_point(_g == _w, __FILE__, __LINE__, #got " == " #want,                \
		  "%s (got %lld, want %lld)", name, _g, _w);                      \
} while (0)
#define TAP_SKIP(why, ...) do { tap_n++; printf("ok %d - ", tap_n);             \
	printf(__VA_ARGS__); printf(" # SKIP %s\n", why); } while (0)
#define TAP_DIAG(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); } while (0)

#define TAP_DEFINE int tap_n, tap_failed
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
