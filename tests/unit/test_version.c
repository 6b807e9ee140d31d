/* test_version.c: tag names compared as versions (order: version). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "policy/version.h"

#define lt(a, b) cr_assert_lt(rs_version_compare(a, b), 0, "%s < %s", a, b); \
	cr_assert_gt(rs_version_compare(b, a), 0, "%s > %s", b, a)

Test(version, digit_runs_by_value)
{
	lt("build-9", "build-10");
	lt("build-10", "build-100");
	lt("build-2", "build-10a");
	lt("r7", "r07b");
	lt("20240101", "20240102");
	lt("1.9", "1.10");
	lt("1.2", "1.2.1");
	lt("1.2.9b", "1.2.10");
	/* longer than any integer type */
	lt("build-99999999999999999999999", "build-100000000000000000000000");
}

Test(version, semantic_versions_by_semver_precedence)
{
	lt("1.2.9", "1.2.10");
	lt("1.9.0", "1.10.0");
	lt("0.9.9", "1.0.0");
	lt("1.0.0-rc.1", "1.0.0");
	lt("1.0.0-rc.2", "1.0.0-rc.10");
	lt("1.0.0", "1.0.1-rc.1");
	lt("2.0.0-alpine", "2.0.0");
	lt("1.2.3-x-y", "1.2.3");
}

Test(version, the_semver_spec_example)
{
	/* SemVer 2.0.0, section 11 */
	const char *order[] = {
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"
	};

	for (size_t i = 0; i + 1 < sizeof(order) / sizeof(order[0]); i++) {
		lt(order[i], order[i + 1]);
	}
	/* alphanumeric identifiers compare in ASCII order, as the spec says */
	lt("1.0.0-rc10", "1.0.0-rc2");
	lt("1.0.0-Z", "1.0.0-a");
}

Test(version, leading_v_ignored_and_ties_broken_by_name)
{
	cr_assert_eq(rs_version_compare("v1.2.3", "v1.2.3"), 0);
	lt("v1.2.9", "1.2.10");
	lt("1.2.10", "v1.2.11");
	lt("V2", "v3");
	/* equal as versions: the name decides, so only equal names tie */
	lt("1.0.0", "v1.0.0");
	lt("1.0.0+build.1", "1.0.0+build.2");
	lt("007", "7");
	/* a "v" that starts a word is text */
	lt("1.0", "version-1");
	lt("v1", "vnext-1");
}

Test(version, semver_and_other_names_mix_consistently)
{
	lt("1.0.0-rc.1", "1.0.0.1");
	lt("1.0.0", "1.0.0.1");
	lt("1.0.0-rc.1", "1.0.0_rc2");
	lt("1.2.3", "build-1");
	lt("9", "latest");
}

Test(version, has_number)
{
	cr_assert(rs_version_has_number("v1"));
	cr_assert(rs_version_has_number("build-7"));
	cr_assert_not(rs_version_has_number("latest"));
	cr_assert_not(rs_version_has_number("stable"));
	cr_assert_not(rs_version_has_number(""));
}

static int cmp(const void *a, const void *b)
{
	return rs_version_compare(*(const char *const *)a, *(const char *const *)b);
}

/* A total order: antisymmetric and transitive over a mixed set, so that
 * sorting does not depend on the order the names came in. */
Test(version, total_order_over_a_mixed_set)
{
	const char *names[] = {
		"1.0.0", "v1.0.0", "1.0.0-rc.1", "1.0.0-rc.10", "1.0.0-rc.2", "1.0.0-alpha",
		"1.0.0-alpha.1", "1.0.0+b", "1.0.0.1", "1.0", "1", "01", "v2", "2.0.0-beta",
		"build-9", "build-10", "build-", "build", "latest", "1.0.0-", "1.0.0-a..b", "1.0.0_rc",
		"1.0.0-rc-1", "10.0.0", "9.99.999", "v", "v1.0.0-rc.1+x", "0.0.0", "a1b2", "a1b10",
	};
	size_t n = sizeof(names) / sizeof(names[0]);
	const char *shuffled[sizeof(names) / sizeof(names[0])];
	const char *sorted[sizeof(names) / sizeof(names[0])];

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int ij = rs_version_compare(names[i], names[j]);
			int ji = rs_version_compare(names[j], names[i]);

			cr_assert_eq((ij > 0) - (ij < 0), -((ji > 0) - (ji < 0)), "%s vs %s", names[i],
				     names[j]);
			cr_assert_eq(ij == 0, i == j, "%s vs %s", names[i], names[j]);
			for (size_t k = 0; ij < 0 && k < n; k++)
				if (rs_version_compare(names[j], names[k]) < 0)
					cr_assert_lt(rs_version_compare(names[i], names[k]), 0,
						     "%s < %s < %s", names[i], names[j], names[k]);
		}
	memcpy(sorted, names, sizeof(names));
	qsort(sorted, n, sizeof(*sorted), cmp);
	for (size_t i = 0; i < n; i++)
		shuffled[i] = names[(i * 7 + 3) % n];
	qsort(shuffled, n, sizeof(*shuffled), cmp);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(shuffled[i], sorted[i]);
}
