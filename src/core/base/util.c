/* util.c: durations, sizes, timestamps and string helpers. */
#include "base/util.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "base/error.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t unit_seconds(char unit)
{
	switch (unit) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	case 'w': return 7 * 86400;
	default: return 0;
	}
}

int rs_duration_parse(int64_t *out, const char *text)
{
	const char *p = text;
	int64_t total = 0;
	int parts = 0;

	*out = 0;
	if (!text || !*text)
		return rs_error_set(RS_EUSAGE, "empty duration");
	while (*p) {
		int64_t value = 0, mult;
		int digits = 0;

		while (isdigit((unsigned char)*p)) {
			if (value > (INT64_MAX - 9) / 10)
				return rs_error_set(RS_EUSAGE, "duration '%s' is too large", text);
			value = value * 10 + (*p++ - '0');
			digits++;
		}
		if (!digits)
			return rs_error_set(RS_EUSAGE,
				"invalid duration '%s' (use forms like 30d, 24h, 1h30m, 90s)", text);
		if (!*p && parts == 0) {
			mult = 1;
		} else {
			mult = unit_seconds(*p);
			if (!mult)
				return rs_error_set(RS_EUSAGE,
					"invalid duration '%s' (units are s, m, h, d, w)", text);
			p++;
		}
		if (value > INT64_MAX / mult || total > INT64_MAX - value * mult)
			return rs_error_set(RS_EUSAGE, "duration '%s' is too large", text);
		total += value * mult;
		parts++;
	}
	*out = total;
	return 0;
}

char *rs_duration_format(char *out, size_t outsize, int64_t seconds)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}
	};
	size_t o = 0;

	if (seconds <= 0) {
		snprintf(out, outsize, "0s");
		return out;
	}
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int64_t n = seconds / units[i].secs;

		if (!n)
			continue;
		seconds -= n * units[i].secs;
		o += (size_t)snprintf(out + o, o < outsize ? outsize - o : 0,
				      "%" PRId64 "%c", n, units[i].unit);
	}
	return out;
}

int rs_size_parse(uint64_t *out, const char *text)
{
	char *end;
	double value;
	double mult = 1;
	size_t span, dots = 0;

	*out = 0;
	if (!text || !*text)
		return rs_error_set(RS_EUSAGE, "invalid size '%s'", text ? text : "");
	/* plain decimals only: strtod would also take "nan", "inf", hex and
	 * exponents, and NaN cannot be converted to an integer */
	span = strspn(text, "0123456789.");
	for (size_t i = 0; i < span; i++)
		dots += text[i] == '.';
	if (!span || dots > 1 || (span == 1 && dots == 1))
		return rs_error_set(RS_EUSAGE, "invalid size '%s'", text);
	errno = 0;
	value = strtod(text, &end);
	if (errno || end != text + span || !isfinite(value) || value < 0)
		return rs_error_set(RS_EUSAGE, "invalid size '%s'", text);
	while (*end == ' ')
		end++;
	if (*end) {
		static const char *const binary[] = {"k", "m", "g", "t"};
		char unit[8];
		size_t n = strlen(end);

		if (n >= sizeof(unit))
			return rs_error_set(RS_EUSAGE, "invalid size unit in '%s'", text);
		for (size_t i = 0; i <= n; i++)
			unit[i] = (char)tolower((unsigned char)end[i]);
		if (strcmp(unit, "b") == 0) {
			mult = 1;
		} else {
			int found = 0;

			for (size_t i = 0; i < 4 && !found; i++) {
				double step = pow(1024.0, (double)(i + 1));
				double dec = pow(1000.0, (double)(i + 1));

				if (unit[0] != binary[i][0])
					continue;
				if (!unit[1] || strcmp(unit + 1, "ib") == 0 || strcmp(unit + 1, "i") == 0) {
					mult = step;
					found = 1;
				} else if (strcmp(unit + 1, "b") == 0) {
					mult = dec;
					found = 1;
				}
			}
			if (!found)
				return rs_error_set(RS_EUSAGE, "invalid size unit in '%s'", text);
		}
	}
	value *= mult;
	if (value >= 18446744073709551615.0)
		return rs_error_set(RS_EUSAGE, "size '%s' is too large", text);
	*out = (uint64_t)value;
	return 0;
}

char *rs_size_format(char *out, size_t outsize, uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	double value = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(out, outsize, "%" PRIu64 " B", bytes);
		return out;
	}
	while (value >= 1024 && u < 4) {
		value /= 1024;
		u++;
	}
	if (value < 10)
		snprintf(out, outsize, "%.1f %s", value, units[u]);
	else
		snprintf(out, outsize, "%.0f %s", value, units[u]);
	return out;
}

static int parse_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* What four-digit RFC 3339 years can say: 0000-01-01T00:00:00Z to
 * 9999-12-31T23:59:59Z. */
#define TIME_MIN (-62167219200LL)
#define TIME_MAX 253402300799LL

static int days_in_month(int year, int mon)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 2 && leap ? 29 : days[mon - 1];
}

int rs_time_parse(int64_t *out, const char *text)
{
	const char *p = text;
	int year, mon, day, hour, min, sec, off = 0;

	*out = RS_TIME_UNKNOWN;
	if (!text)
		goto bad;
	if (parse_digits(&p, 4, &year) || *p++ != '-' || parse_digits(&p, 2, &mon) ||
	    *p++ != '-' || parse_digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
		goto bad;
	p++;
	if (parse_digits(&p, 2, &hour) || *p++ != ':' || parse_digits(&p, 2, &min) ||
	    *p++ != ':' || parse_digits(&p, 2, &sec))
		goto bad;
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 ||
	    min > 59 || sec > 60)
		goto bad;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;

		p++;
		if (parse_digits(&p, 2, &oh) || *p++ != ':' || parse_digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			goto bad;
		off = sign * (oh * 3600 + om * 60);
	} else {
		goto bad;
	}
	if (*p)
		goto bad;
	*out = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 +
	       hour * 3600 + min * 60 + sec - off;
	/* an offset may carry year 0000 or 9999 past what RFC 3339 can write */
	if (*out < TIME_MIN || *out > TIME_MAX) {
		*out = RS_TIME_UNKNOWN;
		goto bad;
	}
	return 0;
bad:
	return rs_error_set(RS_EPROTO, "invalid timestamp '%s'", text ? text : "");
}

char *rs_time_format(char *out, size_t outsize, int64_t when)
{
	struct tm tm;
	time_t t = (time_t)when;

	if (when == RS_TIME_UNKNOWN || when < TIME_MIN || when > TIME_MAX ||
	    !gmtime_r(&t, &tm)) {
		snprintf(out, outsize, "unknown");
		return out;
	}
	/* four digits always: strftime's %Y writes year 224 as "224", which
	 * no RFC 3339 reader (ours included) takes back */
	snprintf(out, outsize, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return out;
}

int64_t rs_double_to_int64(double value, int64_t fallback)
{
	/* 2^63 is exactly representable; anything at or past it is not an int64 */
	if (!(value > -9223372036854775808.0 && value < 9223372036854775808.0))
		return fallback;
	return (int64_t)value;
}

uint64_t rs_add_u64(uint64_t a, int64_t b)
{
	if (b <= 0)
		return a;
	return (uint64_t)b > UINT64_MAX - a ? UINT64_MAX : a + (uint64_t)b;
}

int64_t rs_add_i64(int64_t a, int64_t b)
{
	if (b <= 0)
		return a;
	if (a < 0)
		a = 0;
	return b > INT64_MAX - a ? INT64_MAX : a + b;
}

char *rs_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int rs_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (!size)
		return -1;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

uint64_t rs_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void rs_memory_trim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}
