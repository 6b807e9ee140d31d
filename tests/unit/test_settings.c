/* test_settings.c: one name per setting, sources in order of strength. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "config/settings.h"

Test(settings, defaults_are_the_safe_ones)
{
	struct rs_settings s;

	cr_assert_eq(rs_settings_init(&s), 0);
	cr_assert_str_eq(s.untagged, "delete");
	cr_assert_eq(s.untagged_grace, 86400);
	cr_assert_eq(s.keep_last, -1);
	cr_assert_eq(s.jobs, 8);
	cr_assert_eq(s.insecure, 0);
	rs_settings_release(&s);
}

Test(settings, option_and_yaml_names_resolve_alike)
{
	cr_assert_eq(rs_settings_lookup("keep_last"), rs_settings_lookup("keep-last"));
	cr_assert_geq(rs_settings_lookup("untagged-grace"), 0);
	cr_assert_eq(rs_settings_lookup("no-such-thing"), -1);
	cr_assert_lt(rs_setting_count, 64, "sources[] must hold every setting");
}

Test(settings, stronger_sources_win)
{
	struct rs_settings s;
	int jobs = rs_settings_lookup("jobs");

	rs_settings_init(&s);
	cr_assert_eq(rs_settings_set(&s, jobs, "4", RS_SRC_CLI), 0);
	cr_assert_eq(rs_settings_set(&s, jobs, "16", RS_SRC_ENV), 0);
	cr_assert_eq(s.jobs, 4, "the environment must not override the command line");
	cr_assert_eq(s.sources[jobs], RS_SRC_CLI);
	rs_settings_release(&s);
}

Test(settings, bad_values_name_the_setting)
{
	struct rs_settings s;

	rs_settings_init(&s);
	cr_assert_eq(rs_settings_set(&s, rs_settings_lookup("jobs"), "many", RS_SRC_CLI), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "'jobs'"));
	cr_assert_eq(rs_settings_set(&s, rs_settings_lookup("untagged"), "maybe", RS_SRC_CLI),
		     RS_EUSAGE);
	cr_assert_eq(rs_settings_set(&s, rs_settings_lookup("untagged_grace"), "soon", RS_SRC_CLI),
		     RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "untagged_grace"));
	cr_assert_eq(rs_settings_set(&s, rs_settings_lookup("insecure"), "perhaps", RS_SRC_CLI),
		     RS_EUSAGE);
	rs_settings_release(&s);
}

Test(settings, environment_is_read)
{
	struct rs_settings s;

	rs_settings_init(&s);
	setenv("REGSWEEP_KEEP_LAST", "7", 1);
	setenv("REGSWEEP_UNTAGGED_GRACE", "2h", 1);
	cr_assert_eq(rs_settings_load_env(&s), 0);
	cr_assert_eq(s.keep_last, 7);
	cr_assert_eq(s.untagged_grace, 7200);
	unsetenv("REGSWEEP_KEEP_LAST");
	unsetenv("REGSWEEP_UNTAGGED_GRACE");
	rs_settings_release(&s);
}

Test(settings, secrets_are_masked)
{
	struct rs_settings s;
	char out[64];
	int pw = rs_settings_lookup("password");

	rs_settings_init(&s);
	cr_assert_eq(rs_settings_set(&s, pw, "hunter2", RS_SRC_ENV), 0);
	cr_assert_str_eq(rs_settings_format(&s, pw, out, sizeof(out)), "***");
	rs_settings_release(&s);
}

Test(settings, the_deadline_is_one_setting_with_three_names)
{
	struct rs_settings s;
	int deadline = rs_settings_lookup("deadline");

	rs_settings_init(&s);
	cr_assert_geq(deadline, 0);
	cr_assert_eq(s.deadline, 0, "no deadline unless asked");
	cr_assert_str_eq(rs_setting_table[deadline].env, "REGSWEEP_DEADLINE");
	setenv("REGSWEEP_DEADLINE", "45m", 1);
	cr_assert_eq(rs_settings_load_env(&s), 0);
	cr_assert_eq(s.deadline, 45 * 60);
	unsetenv("REGSWEEP_DEADLINE");
	cr_assert_eq(rs_settings_set(&s, rs_settings_lookup("deadline"), "2h", RS_SRC_CLI), 0);
	cr_assert_eq(s.deadline, 7200, "--deadline beats the environment");
	cr_assert_eq(rs_settings_set(&s, deadline, "tomorrow", RS_SRC_CLI), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "deadline"), "%s", rs_error_message());
	rs_settings_release(&s);
}
