/* SPDX-License-Identifier: MIT */
/*
 * tap.h - a tiny TAP harness (systemd tests.h shape)
 *
 *   TEST(name) { ASSERT_EQ(1 + 1, 2); }
 *   int main(void) { return tap_run(); }
 *
 * Each TEST is one TAP test point. A failing ASSERT ends its test and prints where and why.
 * A test may call TEST_SKIP("reason") to report "ok N # SKIP reason".
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_test {
	const char *name;
	void (*fn)(void);
	struct tap_test *next;
};

static struct tap_test *tap_tests, **tap_tail = &tap_tests;
static jmp_buf tap_jmp;
static const char *tap_skip_reason;
static int tap_failed_here;

static inline void tap_register(struct tap_test *t)
{
	*tap_tail = t;
	tap_tail = &t->next;
}

#define TEST(n)                                                                                    \
	static void test_##n(void);                                                                \
	static struct tap_test tap_t_##n = { #n, test_##n, NULL };                                 \
	__attribute__((constructor)) static void tap_reg_##n(void)                                 \
	{                                                                                          \
		tap_register(&tap_t_##n);                                                          \
	}                                                                                          \
	static void test_##n(void)

#define TAP_FAIL(...)                                                                              \
	do {                                                                                       \
		printf("# %s:%d: ", __FILE__, __LINE__);                                           \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		tap_failed_here = 1;                                                               \
		longjmp(tap_jmp, 1);                                                               \
	} while (0)

#define ASSERT_TRUE(x)                                                                             \
	do {                                                                                       \
		if (!(x))                                                                          \
			TAP_FAIL("expected true: %s", #x);                                         \
	} while (0)
#define ASSERT_FALSE(x) ASSERT_TRUE(!(x))
#define ASSERT_EQ(a, b)                                                                            \
	do {                                                                                       \
		intmax_t _a = (intmax_t)(a), _b = (intmax_t)(b);                                   \
		if (_a != _b)                                                                      \
			TAP_FAIL("%s == %s: %jd != %jd", #a, #b, _a, _b);                          \
	} while (0)
#define ASSERT_NE(a, b)                                                                            \
	do {                                                                                       \
		intmax_t _a = (intmax_t)(a), _b = (intmax_t)(b);                                   \
		if (_a == _b)                                                                      \
			TAP_FAIL("%s != %s: both %jd", #a, #b, _a);                                \
	} while (0)
#define ASSERT_OK(r)                                                                               \
	do {                                                                                       \
		intmax_t _r = (intmax_t)(r);                                                       \
		if (_r < 0)                                                                        \
			TAP_FAIL("%s failed: %jd (%s)", #r, _r, strerror((int)-_r));               \
	} while (0)
#define ASSERT_ERR(r, e)                                                                           \
	do {                                                                                       \
		intmax_t _r = (intmax_t)(r);                                                       \
		if (_r != -(intmax_t)(e))                                                          \
			TAP_FAIL("%s: expected -%s, got %jd", #r, #e, _r);                         \
	} while (0)
#define ASSERT_STREQ(a, b)                                                                         \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b) != 0)                                             \
			TAP_FAIL("%s == %s: '%s' != '%s'", #a, #b, _a ? _a : "(null)",             \
				 _b ? _b : "(null)");                                              \
	} while (0)
#define ASSERT_NULL(p)                                                                             \
	do {                                                                                       \
		if ((p) != NULL)                                                                   \
			TAP_FAIL("expected NULL: %s", #p);                                         \
	} while (0)
#define ASSERT_NOT_NULL(p)                                                                         \
	do {                                                                                       \
		if ((p) == NULL)                                                                   \
			TAP_FAIL("expected non-NULL: %s", #p);                                     \
	} while (0)

#define TEST_SKIP(reason)                                                                          \
	do {                                                                                       \
		tap_skip_reason = (reason);                                                        \
		longjmp(tap_jmp, 1);                                                               \
	} while (0)

static inline int tap_run(void)
{
	volatile int n = 0, failed = 0;

	for (struct tap_test *t = tap_tests; t; t = t->next)
		n++;
	printf("1..%d\n", n);
	n = 0;
	for (struct tap_test *t = tap_tests; t; t = t->next) {
		n++;
		tap_failed_here = 0;
		tap_skip_reason = NULL;
		fflush(stdout);
		if (setjmp(tap_jmp) == 0)
			t->fn();
		if (tap_failed_here) {
			printf("not ok %d - %s\n", n, t->name);
			failed++;
		} else if (tap_skip_reason)
			printf("ok %d - %s # SKIP %s\n", n, t->name, tap_skip_reason);
		else
			printf("ok %d - %s\n", n, t->name);
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
