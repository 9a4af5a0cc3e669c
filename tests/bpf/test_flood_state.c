// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_flood_state.c - per-source state under a spoofed flood.
 *
 * The bucket table has its default size (CORRAL_MAX_SOURCES, 1M). One
 * active IPv4 source limited to 100 pps (burst 10) sends 5x its limit,
 * interleaved with 2M spoofed sources, every one new (distinct IPv6 /64s
 * in fd77::/16, so each creates a bucket). The fake clock advances 1 us
 * per spoofed packet (a 1 Mpps flood): the flood lasts 2 s, the active
 * source sends 1000 packets and may pass at most 100 x 2 s + 10, plus 5%.
 * If the LRU evicted the active source's bucket, the bucket would come
 * back full and pass more. Tracked-source insertions are reported.
 *
 * CORRAL_FLOOD_SPOOFS=N (environment) scales the flood for quick runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "pkt.h"
#include "harness.h"

TAP_DEFINE;

#define NSEC 1000000000ULL
#define T0 (1000 * NSEC)
#define RATE 100
#define BURST 10
#define SPOOF_NS 1000ULL              /* one spoofed packet per us: 1 Mpps */
#define ACTIVE_EVERY 2000             /* 1 Mpps / 2000 = 500 pps = 5x RATE */

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return dflt;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || !n)
		return dflt;
	return n;
}

int main(void)
{
	unsigned long spoofs = env_ul("CORRAL_FLOOD_SPOOFS", 2000000);
	__u8 sbuf[PKT_BUF_MAX], abuf[PKT_BUF_MAX], s6[16], d6[16];
	struct pkt_layout slay;
	struct h_stats before, after;
	struct pkt_spec s;
	struct harness h;
	unsigned long i, sent = 0, passed = 0, spoof_pass = 0;
	int slen, alen, err;
	__u64 now = T0, inserted, retries;
	double secs, cap;
	long tracked;

	err = h_open(&h, NULL);
	if (err) {
		TAP_CHECK(0, "load corral.bpf.o with a fake clock: %s", strerror(-err));
		return tap_done();
	}
	TAP_DIAG("bucket table: %u entries; %lu spoofed sources",
		 h.buckets_max, spoofs);
	h_set_now(&h, now);
	h_set_default_limit(&h, RATE, BURST, 0, 0);

	pkt_spec_v4(&s, PKT_IP4(10, 78, 200, 1), PKT_IP4(10, 77, 0, 2), PKT_TCP, 40000, 443);
	s.tcp_flags = PKT_ACK;
	s.payload_len = 100;
	alen = pkt_build(&s, abuf, sizeof(abuf), NULL);
	pkt_ip6(s6, 0xfd77, 0x78, 0, 0, 0, 0, 0, 1);
	pkt_ip6(d6, 0xfd77, 0, 1, 0, 0, 0, 0, 2);
	pkt_spec_v6(&s, s6, d6, PKT_UDP, 40000, 53);
	s.payload_len = 20;
	slen = pkt_build(&s, sbuf, sizeof(sbuf), &slay);
	if (alen < 0 || slen < 0) {
		TAP_CHECK(0, "build packets");
		return tap_done();
	}

	h_stats_read(&h, &before);
	for (i = 0; i < spoofs; i++) {
		__u8 *src = sbuf + slay.l3 + 8;
		int v;

		/* a new /64 each time: fd77:78:HHHH:LLLL::1 */
		src[4] = (i >> 24) & 0xff;
		src[5] = (i >> 16) & 0xff;
		src[6] = (i >> 8) & 0xff;
		src[7] = i & 0xff;
		now += SPOOF_NS;
		h_set_now(&h, now);
		v = h_run(&h, H_XDP, sbuf, slen);
		if (v < 0) {
			TAP_CHECK(0, "spoofed packet %lu: %s", i, strerror(-v));
			goto out;
		}
		spoof_pass += v == H_PASS;
		if (i % ACTIVE_EVERY == 0) {
			v = h_run(&h, H_XDP, abuf, alen);
			if (v < 0) {
				TAP_CHECK(0, "active packet %lu: %s", sent, strerror(-v));
				goto out;
			}
			sent++;
			passed += v == H_PASS;
		}
	}
	h_stats_read(&h, &after);

	secs = (double)(now - T0) / NSEC;
	cap = (RATE * secs + BURST) * 1.05;
	inserted = h_gstat(&after, &before, CORRAL_G_SRC_NEW);
	retries = h_gstat(&after, &before, CORRAL_G_BUCKET_RETRY);
	TAP_DIAG("flood %.3f s: active source sent %lu, passed %lu (limit x time + burst = %.0f);"
		 " spoofed passed %lu of %lu; bucket insertions %llu; CAS retries exhausted %llu",
		 secs, sent, passed, RATE * secs + BURST, spoof_pass, spoofs,
		 (unsigned long long)inserted, (unsigned long long)retries);
	TAP_CHECK(passed <= cap && passed >= RATE * secs,
		  "active source at 5x its limit among %lu spoofed sources: %lu passed, within "
		  "[limit x time, (limit x time + burst) x 1.05] = [%.0f, %.1f]", spoofs, passed,
		  RATE * secs, cap);
	TAP_CHECK(spoof_pass == spoofs, "every spoofed source's first packet passes its new "
		  "bucket (%lu of %lu)", spoof_pass, spoofs);
	TAP_CHECK(inserted >= spoofs && inserted <= spoofs + sent,
		  "bucket insertions counted: %llu (spoofed %lu + active source %llu: 1 = never evicted)",
		  (unsigned long long)inserted, spoofs,
		  (unsigned long long)(inserted > spoofs ? inserted - spoofs : 0));
	tracked = h_buckets_count(&h);
	TAP_CHECK(tracked > 0 && (__u64)tracked <= h.buckets_max,
		  "tracked sources after the flood: %ld (table size %u)", tracked,
		  h.buckets_max);
out:
	h_close(&h);
	return tap_done();
}
