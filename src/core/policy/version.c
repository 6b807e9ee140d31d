/* version.c: ordering tag names as versions: SemVer precedence for
 * semantic versions, digit runs by value for everything else. */
#include "policy/version.h"

#include <string.h>

/* What a name is compared by. Pieces (runs of digits, runs of anything
 * else) from `start` to `core_end`; then, for a semantic version with a
 * pre-release, its dot-separated identifiers [pre, pre_end). */
struct version_key {
	const char *start;
	const char *core_end;
	const char *pre;             /* NULL: none */
	const char *pre_end;
};

/* The kinds of piece, in the order they sort at one position: a
 * pre-release sorts before the end of the name, which sorts before more
 * digits, which sort before more text. */
enum piece {
	PIECE_PRE = 0,
	PIECE_END,
	PIECE_NUMBER,
	PIECE_TEXT
};

struct cursor {
	const char *p;
	const char *end;
	int has_pre;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* SemVer identifier characters: [0-9A-Za-z-]. */
static int is_identifier_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static const char *scan_number(const char *p)
{
	const char *start = p;

	while (is_digit(*p))
		p++;
	return p == start ? NULL : p;
}

/* Non-empty identifiers separated by dots; where they end, or NULL. */
static const char *scan_identifiers(const char *p)
{
	for (;;) {
		const char *first = p;

		while (is_identifier_char(*p))
			p++;
		if (p == first)
			return NULL;
		if (*p != '.')
			return p;
		p++;
	}
}

static void version_key(struct version_key *k, const char *name)
{
	const char *p, *core, *pre = NULL, *pre_end = NULL;

	k->start = name;
	if ((name[0] == 'v' || name[0] == 'V') && is_digit(name[1]))
		k->start = name + 1;
	k->core_end = k->start + strlen(k->start);
	k->pre = NULL;
	k->pre_end = NULL;
	/* a semantic version: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], nothing more */
	p = scan_number(k->start);
	if (!p || *p != '.' || !(p = scan_number(p + 1)) || *p != '.' ||
	    !(p = scan_number(p + 1)))
		return;
	core = p;
	if (*p == '-') {
		pre = p + 1;
		if (!(p = scan_identifiers(pre)))
			return;
		pre_end = p;
	}
	if (*p == '+' && !(p = scan_identifiers(p + 1)))
		return;
	if (*p)
		return;
	k->core_end = core;
	k->pre = pre;
	k->pre_end = pre_end;
}

static enum piece next_piece(struct cursor *c, const char **start, const char **end)
{
	if (c->p >= c->end)
		return c->has_pre ? PIECE_PRE : PIECE_END;
	*start = c->p;
	if (is_digit(*c->p)) {
		while (c->p < c->end && is_digit(*c->p))
			c->p++;
		*end = c->p;
		return PIECE_NUMBER;
	}
	while (c->p < c->end && !is_digit(*c->p))
		c->p++;
	*end = c->p;
	return PIECE_TEXT;
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Two runs of digits by value, whatever their length. */
static int compare_numbers(const char *a, const char *a_end, const char *b, const char *b_end)
{
	while (a_end - a > 1 && *a == '0')
		a++;
	while (b_end - b > 1 && *b == '0')
		b++;
	if (a_end - a != b_end - b)
		return a_end - a < b_end - b ? -1 : 1;
	return sign(memcmp(a, b, (size_t)(a_end - a)));
}

/* Two runs byte by byte; a prefix sorts first. */
static int compare_bytes(const char *a, const char *a_end, const char *b, const char *b_end)
{
	size_t la = (size_t)(a_end - a), lb = (size_t)(b_end - b);
	int c = memcmp(a, b, la < lb ? la : lb);

	if (c)
		return sign(c);
	return la < lb ? -1 : la > lb ? 1 : 0;
}

static int all_digits(const char *p, const char *end)
{
	for (; p < end; p++)
		if (!is_digit(*p))
			return 0;
	return 1;
}

/* SemVer 2.0, rule 11: identifiers left to right; numeric ones by value and
 * before alphanumeric ones, which compare in ASCII order; fewer identifiers
 * sort first when all before are equal. */
static int compare_prerelease(const char *a, const char *a_end, const char *b, const char *b_end)
{
	for (;;) {
		const char *x = a, *y = b;
		int a_numeric, b_numeric, c;

		if (a >= a_end || b >= b_end)
			return (a < a_end) - (b < b_end);
		while (x < a_end && *x != '.')
			x++;
		while (y < b_end && *y != '.')
			y++;
		a_numeric = all_digits(a, x);
		b_numeric = all_digits(b, y);
		if (a_numeric != b_numeric)
			return a_numeric ? -1 : 1;
		c = a_numeric ? compare_numbers(a, x, b, y) : compare_bytes(a, x, b, y);
		if (c)
			return c;
		a = x < a_end ? x + 1 : x;
		b = y < b_end ? y + 1 : y;
	}
}

static int compare_keys(const struct version_key *ka, const struct version_key *kb)
{
	struct cursor a = {ka->start, ka->core_end, ka->pre != NULL};
	struct cursor b = {kb->start, kb->core_end, kb->pre != NULL};

	for (;;) {
		const char *as = NULL, *ae = NULL, *bs = NULL, *be = NULL;
		enum piece pa = next_piece(&a, &as, &ae), pb = next_piece(&b, &bs, &be);
		int c;

		if (pa != pb)
			return pa < pb ? -1 : 1;
		if (pa == PIECE_END)
			return 0;
		if (pa == PIECE_PRE)
			return compare_prerelease(ka->pre, ka->pre_end, kb->pre, kb->pre_end);
		c = pa == PIECE_NUMBER ? compare_numbers(as, ae, bs, be) : compare_bytes(as, ae, bs, be);
		if (c)
			return c;
	}
}

int rs_version_compare(const char *a, const char *b)
{
	struct version_key ka, kb;
	int c;

	version_key(&ka, a);
	version_key(&kb, b);
	c = compare_keys(&ka, &kb);
	return c ? c : sign(strcmp(a, b));
}

int rs_version_has_number(const char *name)
{
	return strpbrk(name, "0123456789") != NULL;
}
