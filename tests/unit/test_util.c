/* test_util.c: durations, sizes, timestamps, buffers and the map. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "base/util.h"

Test(duration, parses_units_and_compounds)
{
	int64_t s;

	cr_assert_eq(rs_duration_parse(&s, "30d"), 0);
	cr_assert_eq(s, 30 * 86400);
	cr_assert_eq(rs_duration_parse(&s, "24h"), 0);
	cr_assert_eq(s, 86400);
	cr_assert_eq(rs_duration_parse(&s, "1h30m"), 0);
	cr_assert_eq(s, 5400);
	cr_assert_eq(rs_duration_parse(&s, "2w"), 0);
	cr_assert_eq(s, 14 * 86400);
	cr_assert_eq(rs_duration_parse(&s, "90"), 0);
	cr_assert_eq(s, 90);
	cr_assert_eq(rs_duration_parse(&s, "0s"), 0);
	cr_assert_eq(s, 0);
}

Test(duration, rejects_garbage_and_overflow)
{
	int64_t s;
	const char *bad[] = {"", "d", "10x", "-5m", "1h30", "1.5h", "99999999999999999999d",
			     "10 d", "h1"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(rs_duration_parse(&s, bad[i]), RS_EUSAGE, "accepted '%s'", bad[i]);
		cr_assert(strstr(rs_error_message(), "duration") != NULL);
	}
}

Test(duration, formats_shortest_exact)
{
	char out[32];

	cr_assert_str_eq(rs_duration_format(out, sizeof(out), 86400), "1d");
	cr_assert_str_eq(rs_duration_format(out, sizeof(out), 5400), "1h30m");
	cr_assert_str_eq(rs_duration_format(out, sizeof(out), 0), "0s");
	cr_assert_str_eq(rs_duration_format(out, sizeof(out), 61), "1m1s");
}

Test(size, parses_binary_and_decimal_units)
{
	uint64_t n;

	cr_assert_eq(rs_size_parse(&n, "512"), 0);
	cr_assert_eq(n, 512);
	cr_assert_eq(rs_size_parse(&n, "10k"), 0);
	cr_assert_eq(n, 10240);
	cr_assert_eq(rs_size_parse(&n, "10KiB"), 0);
	cr_assert_eq(n, 10240);
	cr_assert_eq(rs_size_parse(&n, "1.5 MiB"), 0);
	cr_assert_eq(n, 1572864);
	cr_assert_eq(rs_size_parse(&n, "2MB"), 0);
	cr_assert_eq(n, 2000000);
	cr_assert_eq(rs_size_parse(&n, "1G"), 0);
	cr_assert_eq(n, 1073741824);
	cr_assert_eq(rs_size_parse(&n, "-1"), RS_EUSAGE);
	cr_assert_eq(rs_size_parse(&n, "12 parsecs"), RS_EUSAGE);
	cr_assert_eq(rs_size_parse(&n, ""), RS_EUSAGE);
}

Test(size, formats_like_the_seed)
{
	char out[32];

	cr_assert_str_eq(rs_size_format(out, sizeof(out), 17), "17 B");
	cr_assert_str_eq(rs_size_format(out, sizeof(out), 1023), "1023 B");
	cr_assert_str_eq(rs_size_format(out, sizeof(out), 1024), "1.0 KiB");
	cr_assert_str_eq(rs_size_format(out, sizeof(out), 212 * 1024), "212 KiB");
	cr_assert_str_eq(rs_size_format(out, sizeof(out), 1992294), "1.9 MiB");
	cr_assert_str_eq(rs_size_format(out, sizeof(out), 2ULL << 30), "2.0 GiB");
}

Test(time, parses_rfc3339)
{
	int64_t t;

	cr_assert_eq(rs_time_parse(&t, "1970-01-01T00:00:00Z"), 0);
	cr_assert_eq(t, 0);
	cr_assert_eq(rs_time_parse(&t, "2024-05-01T10:00:00Z"), 0);
	cr_assert_eq(t, 1714557600);
	cr_assert_eq(rs_time_parse(&t, "2024-05-01T10:00:00.123456789Z"), 0);
	cr_assert_eq(t, 1714557600);
	cr_assert_eq(rs_time_parse(&t, "2024-05-01T12:00:00+02:00"), 0);
	cr_assert_eq(t, 1714557600);
	cr_assert_eq(rs_time_parse(&t, "2000-02-29T00:00:00-00:30"), 0);
	cr_assert_eq(t, 951784200);
}

Test(time, rejects_bad_timestamps)
{
	int64_t t;
	const char *bad[] = {"", "2024-05-01", "2024-13-01T00:00:00Z", "2024-05-01T25:00:00Z",
			     "2024-05-01T10:00:00", "2024-05-01T10:00:00Zjunk", "yesterday"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_lt(rs_time_parse(&t, bad[i]), 0, "accepted '%s'", bad[i]);
		cr_assert_eq(t, RS_TIME_UNKNOWN);
	}
}

Test(time, formats_utc_and_unknown)
{
	char out[40];

	cr_assert_str_eq(rs_time_format(out, sizeof(out), 1714557600), "2024-05-01T10:00:00Z");
	cr_assert_str_eq(rs_time_format(out, sizeof(out), RS_TIME_UNKNOWN), "unknown");
}

Test(buf, grows_and_formats)
{
	struct rs_buf b;

	rs_buf_init(&b, 0);
	cr_assert_str_eq(rs_buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(rs_buf_printf(&b, "%d,", i), 0);
	cr_assert_eq(strncmp(b.ptr, "0,1,2,", 6), 0);
	cr_assert_eq(b.len, strlen(b.ptr));
	rs_buf_release(&b);
	cr_assert_null(b.ptr);
}

Test(buf, cap_fails_and_frees)
{
	struct rs_buf b;

	rs_buf_init(&b, 8);
	cr_assert_eq(rs_buf_puts(&b, "12345678"), 0);
	cr_assert_eq(rs_buf_puts(&b, "9"), RS_EPROTO);
	cr_assert_null(b.ptr, "a buffer past its cap must not keep half an answer");
	cr_assert_eq(b.len, 0);
}

Test(map, put_get_remove_many)
{
	struct rs_map m = RS_MAP_INIT;
	char key[32];

	for (long i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%ld", i);
		cr_assert_eq(rs_map_put(&m, key, (void *)(i + 1)), 0);
	}
	cr_assert_eq(m.len, 5000);
	for (long i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "k%ld", i);
		cr_assert_eq((long)rs_map_remove(&m, key), i + 1);
	}
	for (long i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%ld", i);
		if (i % 2)
			cr_assert_eq((long)rs_map_get(&m, key), i + 1, "lost %s", key);
		else
			cr_assert_null(rs_map_get(&m, key));
	}
	cr_assert_eq(m.len, 2500);
	rs_map_release(&m);
}

Test(digest, sha256_and_validation)
{
	char d[RS_DIGEST_MAX];

	cr_assert_eq(rs_digest_sha256(d, "", 0), 0);
	cr_assert_str_eq(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cr_assert(rs_digest_valid(d));
	cr_assert(rs_digest_matches(d, "", 0));
	cr_assert_not(rs_digest_matches(d, "x", 1));
	cr_assert_not(rs_digest_valid("sha256:E3B0"));
	cr_assert_not(rs_digest_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	cr_assert_not(rs_digest_matches("md5:abc", "", 0), "unverifiable digests are never trusted");
}

Test(log, redacts_registered_secrets)
{
	char out[128];

	rs_secret_register("hunter2");
	cr_assert_str_eq(rs_redact("user:hunter2@host hunter2", out, sizeof(out)), "user:***@host ***");
	cr_assert(rs_contains_secret("xxhunter2xx"));
	rs_secret_clear();
	cr_assert_not(rs_contains_secret("xxhunter2xx"));
}

Test(error, prefix_keeps_code_and_message)
{
	rs_error_set(RS_ENOTFOUND, "no such tag '%s'", "v1");
	rs_error_prefix("scanning '%s': ", "app");
	cr_assert_str_eq(rs_error_message(), "scanning 'app': no such tag 'v1'");
	cr_assert_eq(rs_error_code(), RS_ENOTFOUND);
}

Test(util, sizes_from_the_network_are_summed_without_wrapping)
{
	cr_assert_eq(rs_add_u64(1, 2), 3);
	cr_assert_eq(rs_add_u64(UINT64_MAX - 1, INT64_MAX), UINT64_MAX);
	cr_assert_eq(rs_add_u64(5, -7), 5, "a negative size adds nothing");
	cr_assert_eq(rs_add_i64(INT64_MAX - 1, 5), INT64_MAX);
	cr_assert_eq(rs_add_i64(INT64_MAX, INT64_MAX), INT64_MAX);
	cr_assert_eq(rs_add_i64(10, -3), 10);
	cr_assert_eq(rs_add_i64(-1, 4), 4, "an unknown (-1) total starts from zero");
}
