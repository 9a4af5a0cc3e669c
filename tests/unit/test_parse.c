// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_parse.c - the grammar's word parsers: rates, byte rates, sizes,
 * durations, prefixes (IPv4/IPv6, bad input, host bits), shed levels,
 * ports, and the formatters used by the show commands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "state.h"
#include "words.h"

static void test_rate(void **state)
{
	__u64 v;

	assert_int_equal(corral_parse_rate("1000pps", &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(corral_parse_rate("10kpps", &v), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(corral_parse_rate("2mpps", &v), 0);
	assert_int_equal(v, 2000000);
	assert_int_equal(corral_parse_rate("1.5kpps", &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(corral_parse_rate("250", &v), 0);
	assert_int_equal(v, 250);
	/* bad: units, signs, spaces, zero, fractions of a packet, overflow */
	assert_int_not_equal(corral_parse_rate("10kbit", &v), 0);
	assert_int_not_equal(corral_parse_rate("-5pps", &v), 0);
	assert_int_not_equal(corral_parse_rate(" 5pps", &v), 0);
	assert_int_not_equal(corral_parse_rate("5 pps", &v), 0);
	assert_int_not_equal(corral_parse_rate("0pps", &v), 0);
	assert_int_not_equal(corral_parse_rate("1.0005kpps", &v), 0);
	assert_int_not_equal(corral_parse_rate("pps", &v), 0);
	assert_int_not_equal(corral_parse_rate("", &v), 0);
	assert_int_not_equal(corral_parse_rate("99999999999999999999pps", &v), 0);
	assert_int_not_equal(corral_parse_rate("18446744073709551gpps", &v), 0);
	assert_int_not_equal(corral_parse_rate("10KPPS", &v), 0);
	assert_int_not_equal(corral_parse_rate("1.pps", &v), 0);
}

static void test_byterate(void **state)
{
	__u64 v;

	assert_int_equal(corral_parse_byterate("800kbit", &v), 0);
	assert_int_equal(v, 100000);          /* bytes per second */
	assert_int_equal(corral_parse_byterate("10mbit", &v), 0);
	assert_int_equal(v, 1250000);
	assert_int_equal(corral_parse_byterate("1gbit", &v), 0);
	assert_int_equal(v, 125000000);
	assert_int_equal(corral_parse_byterate("64bit", &v), 0);
	assert_int_equal(v, 8);
	assert_int_not_equal(corral_parse_byterate("4bit", &v), 0);   /* under a byte */
	assert_int_not_equal(corral_parse_byterate("800", &v), 0);    /* unit required */
	assert_int_not_equal(corral_parse_byterate("800kb", &v), 0);
	assert_int_not_equal(corral_parse_byterate("10mbps", &v), 0);
}

static void test_size(void **state)
{
	__u64 v;

	assert_int_equal(corral_parse_size("1500b", &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(corral_parse_size("64kb", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(corral_parse_size("1mb", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(corral_parse_size("9000", &v), 0);
	assert_int_equal(v, 9000);
	assert_int_not_equal(corral_parse_size("0b", &v), 0);
	assert_int_not_equal(corral_parse_size("1kbit", &v), 0);
	assert_int_not_equal(corral_parse_size("1.5b", &v), 0);
}

static void test_duration(void **state)
{
	__u64 v;

	assert_int_equal(corral_parse_duration("100ms", &v), 0);
	assert_int_equal(v, 100000000ull);
	assert_int_equal(corral_parse_duration("2s", &v), 0);
	assert_int_equal(v, 2000000000ull);
	assert_int_equal(corral_parse_duration("1.5s", &v), 0);
	assert_int_equal(v, 1500000000ull);
	assert_int_equal(corral_parse_duration("500us", &v), 0);
	assert_int_equal(v, 500000ull);
	assert_int_equal(corral_parse_duration("1m", &v), 0);
	assert_int_equal(v, 60000000000ull);
	assert_int_equal(corral_parse_duration("3", &v), 0);
	assert_int_equal(v, 3000000000ull);
	assert_int_not_equal(corral_parse_duration("0s", &v), 0);
	assert_int_equal(corral_parse_duration("5h", &v), 0);
	assert_int_equal(v, 5 * 3600000000000ull);
	assert_int_equal(corral_parse_duration("7d", &v), 0);
	assert_int_equal(v, 7 * 86400000000000ull);
	assert_int_not_equal(corral_parse_duration("5y", &v), 0);
	assert_int_not_equal(corral_parse_duration("-1s", &v), 0);
}

static void check_prefix(const char *s, int family, int len, const char *canon)
{
	struct corral_prefix p;
	char buf[CORRAL_PREFIX_STRLEN];

	assert_int_equal(corral_parse_prefix(s, &p), 0);
	assert_int_equal(p.family, family);
	assert_int_equal(p.len, len);
	assert_string_equal(corral_prefix_str(&p, buf, sizeof(buf)), canon);
}

static void test_prefix(void **state)
{
	struct corral_prefix p;
	struct corral_lpm_key k;
	char buf[CORRAL_PREFIX_STRLEN];

	check_prefix("10.0.0.0/8", 4, 8, "10.0.0.0/8");
	check_prefix("192.168.1.7", 4, 32, "192.168.1.7/32");
	check_prefix("0.0.0.0/0", 4, 0, "0.0.0.0/0");
	check_prefix("fd77::/16", 6, 16, "fd77::/16");
	check_prefix("fd77:0:0:1::/64", 6, 64, "fd77:0:0:1::/64");
	check_prefix("::1", 6, 128, "::1/128");
	check_prefix("::/0", 6, 0, "::/0");

	assert_int_equal(corral_parse_prefix("300.1.1.1/33", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("10.0.0.0/33", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("10.0.0.0/", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("10.0.0.0/-1", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("10.0.0.0/8x", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("10.0.0/24", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("10/8", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("fd77::/129", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("fd77:::1", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("/8", &p), -EINVAL);
	assert_int_equal(corral_parse_prefix("default", &p), -EINVAL);
	/* host bits */
	assert_int_equal(corral_parse_prefix("10.0.0.1/24", &p), -EDOM);
	assert_int_equal(corral_parse_prefix("10.128.0.0/8", &p), -EDOM);
	assert_int_equal(corral_parse_prefix("fd77::1/64", &p), -EDOM);
	assert_int_equal(corral_parse_prefix("10.0.0.128/25", &p), 0);
	assert_int_equal(corral_parse_prefix("10.0.0.64/25", &p), -EDOM);
	/* IPv4-mapped IPv6 would alias the IPv4 keys of the LPM tables */
	assert_int_equal(corral_parse_prefix("::ffff:10.0.0.0/104", &p), -EAFNOSUPPORT);
	assert_int_equal(corral_parse_prefix("::ffff:a4e:901", &p), -EAFNOSUPPORT);
	assert_int_equal(corral_parse_prefix("::ffff:0:0/96", &p), -EAFNOSUPPORT);
	assert_int_equal(corral_parse_prefix("::ffff:0.0.0.0/128", &p), -EAFNOSUPPORT);
	assert_int_equal(corral_parse_prefix("::ffff:10.0.0.1/104", &p), -EDOM);
	/* next to it, or covering it, is plain IPv6 */
	check_prefix("::fffe:0:0/96", 6, 96, "::fffe:0:0/96");
	check_prefix("::1:ffff:0:0/96", 6, 96, "::1:ffff:0:0/96");
	check_prefix("::/80", 6, 80, "::/80");
	check_prefix("64:ff9b::a4e:901", 6, 128, "64:ff9b::a4e:901/128");

	/* IPv4 in LPM keys: ::ffff:a.b.c.d, prefix length + 96 */
	assert_int_equal(corral_parse_prefix("10.1.2.0/24", &p), 0);
	corral_prefix_to_lpm(&p, &k);
	assert_int_equal(k.prefixlen, 120);
	assert_int_equal(k.addr[10], 0xff);
	assert_int_equal(k.addr[11], 0xff);
	assert_int_equal(k.addr[12], 10);
	assert_int_equal(k.addr[13], 1);
	assert_int_equal(k.addr[14], 2);
	assert_int_equal(k.addr[15], 0);
	assert_string_equal(corral_lpm_str(&k, buf, sizeof(buf)), "10.1.2.0/24");
	assert_int_equal(corral_parse_prefix("fd77::/16", &p), 0);
	corral_prefix_to_lpm(&p, &k);
	assert_int_equal(k.prefixlen, 16);
	assert_string_equal(corral_lpm_str(&k, buf, sizeof(buf)), "fd77::/16");
}

/* the CLI refuses an IPv4-mapped prefix with a message naming the word */
static void test_prefix_v4mapped_msg(void **state)
{
	char *allow[] = { "allow", "add", "::ffff:10.0.0.0/104", NULL };
	char *cls[] = { "class", "add", "3", "src", "::ffff:a4e:900/120", NULL };
	struct corral_op op;
	char err[256];

	err[0] = 0;
	assert_int_equal(corral_op_parse(3, allow, &op, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "allow: invalid prefix \"::ffff:10.0.0.0/104\": IPv4-mapped; "
				 "write the IPv4 prefix");
	err[0] = 0;
	assert_int_not_equal(corral_op_parse(5, cls, &op, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "\"::ffff:a4e:900/120\": IPv4-mapped"));
}

static void test_level(void **state)
{
	__u32 l, f;

	assert_int_equal(corral_parse_level("5.25", &l, &f), 0);
	assert_int_equal(l, 5);
	assert_int_equal(f, 2500);
	assert_int_equal(corral_parse_level("5.5", &l, &f), 0);
	assert_int_equal(f, 5000);
	assert_int_equal(corral_parse_level("6", &l, &f), 0);
	assert_int_equal(l, 6);
	assert_int_equal(f, 0);
	assert_int_equal(corral_parse_level("0.0001", &l, &f), 0);
	assert_int_equal(l, 0);
	assert_int_equal(f, 1);
	assert_int_equal(corral_parse_level("7.9999", &l, &f), 0);
	assert_int_equal(f, 9999);
	assert_int_not_equal(corral_parse_level("8", &l, &f), 0);
	assert_int_not_equal(corral_parse_level("10", &l, &f), 0);
	assert_int_not_equal(corral_parse_level("-1", &l, &f), 0);
	assert_int_not_equal(corral_parse_level("5.", &l, &f), 0);
	assert_int_not_equal(corral_parse_level("5.12345", &l, &f), 0);
	assert_int_not_equal(corral_parse_level("5,25", &l, &f), 0);
	assert_int_not_equal(corral_parse_level(".5", &l, &f), 0);
	assert_int_not_equal(corral_parse_level("", &l, &f), 0);
}

static void test_ports(void **state)
{
	__u16 lo, hi;
	__u8 pi;

	assert_int_equal(corral_parse_port_range("80", &lo, &hi), 0);
	assert_int_equal(lo, 80);
	assert_int_equal(hi, 80);
	assert_int_equal(corral_parse_port_range("1000-2000", &lo, &hi), 0);
	assert_int_equal(lo, 1000);
	assert_int_equal(hi, 2000);
	assert_int_equal(corral_parse_port_range("0-65535", &lo, &hi), 0);
	assert_int_not_equal(corral_parse_port_range("2000-1000", &lo, &hi), 0);
	assert_int_not_equal(corral_parse_port_range("65536", &lo, &hi), 0);
	assert_int_not_equal(corral_parse_port_range("80-", &lo, &hi), 0);
	assert_int_not_equal(corral_parse_port_range("-80", &lo, &hi), 0);
	assert_int_not_equal(corral_parse_port_range("http", &lo, &hi), 0);
	assert_int_equal(corral_parse_proto("tcp", &pi), 0);
	assert_int_equal(pi, CORRAL_PI_TCP);
	assert_int_equal(corral_parse_proto("icmpv6", &pi), 0);
	assert_int_equal(pi, CORRAL_PI_ICMPV6);
	assert_int_not_equal(corral_parse_proto("TCP", &pi), 0);
	assert_int_not_equal(corral_parse_proto("sctp", &pi), 0);
}

static void test_format(void **state)
{
	char b[32];

	assert_string_equal(corral_rate_str(10000, b, sizeof(b)), "10kpps");
	assert_string_equal(corral_rate_str(1500, b, sizeof(b)), "1500pps");
	assert_string_equal(corral_byterate_str(1250000, b, sizeof(b)), "10mbit");
	assert_string_equal(corral_size_str(65536, b, sizeof(b)), "64kb");
	assert_string_equal(corral_size_str(1514, b, sizeof(b)), "1514b");
	assert_string_equal(corral_level_str(5, 2500, b, sizeof(b)), "5.25");
	assert_string_equal(corral_level_str(6, 0, b, sizeof(b)), "6");
	assert_string_equal(corral_level_str(0, 1, b, sizeof(b)), "0.0001");
	assert_string_equal(corral_reason_name(CORRAL_R_WOULD_DROP), "would_drop");
	assert_string_equal(corral_reason_name(CORRAL_R_SYN_CAP), "syn_cap");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_byterate),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_prefix_v4mapped_msg),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
