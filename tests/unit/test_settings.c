/* test_settings.c: one name per setting, sources in order of strength. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "config/settings.h"
#include "base/log.h"

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
	cr_assert_leq(rs_setting_count, RS_SETTINGS_MAX, "sources[] must hold every setting");
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

Test(settings, a_list_repeats_and_a_stronger_source_replaces_it)
{
	struct rs_settings s;
	int notify = rs_settings_lookup("notify");

	rs_settings_init(&s);
	cr_assert_eq(s.notify.count, 0);
	cr_assert_str_eq(s.notify_on, "always");
	cr_assert_eq(rs_settings_set(&s, notify, "http://a.example/1", RS_SRC_FILE), 0);
	cr_assert_eq(rs_settings_set(&s, notify, "http://b.example/2", RS_SRC_FILE), 0);
	cr_assert_eq(s.notify.count, 2, "values from one source add up");
	cr_assert_eq(rs_settings_set(&s, notify, " http://c.example/3\nhttp://d.example/4 ", RS_SRC_ENV),
		     0);
	cr_assert_eq(s.notify.count, 2, "a stronger source replaces the list");
	cr_assert_str_eq(s.notify.items[0], "http://c.example/3");
	cr_assert_str_eq(s.notify.items[1], "http://d.example/4");
	cr_assert_eq(rs_settings_set(&s, notify, "http://x.example/", RS_SRC_FILE), 0);
	cr_assert_eq(s.notify.count, 2, "a weaker one changes nothing");
	cr_assert_eq(rs_settings_set(&s, notify, "", RS_SRC_CLI), 0);
	cr_assert_eq(s.notify.count, 0, "an empty value on the command line empties it");
	rs_settings_release(&s);
	cr_assert_null(s.notify.items);
}

Test(settings, notify_urls_are_checked_and_shown_masked)
{
	struct rs_settings s;
	int notify = rs_settings_lookup("notify"), on = rs_settings_lookup("notify_on");
	char out[256];

	rs_settings_init(&s);
	cr_assert_eq(rs_settings_set(&s, notify, "ftp://h/x", RS_SRC_CLI), RS_EUSAGE);
	cr_assert_eq(rs_settings_set(&s, notify, "http://[s3cret", RS_SRC_CLI), RS_EUSAGE);
	cr_assert_null(strstr(rs_error_message(), "s3cret"), "%s", rs_error_message());
	cr_assert_eq(s.notify.count, 0, "a bad value leaves the list alone");
	cr_assert_eq(rs_settings_set(&s, notify, "https://u:pw-s3cret@chat.example/hooks/T0K",
				     RS_SRC_CLI), 0);
	cr_assert_eq(rs_settings_set(&s, notify, "https://chat.example", RS_SRC_CLI), 0);
	cr_assert_str_eq(rs_settings_format(&s, notify, out, sizeof(out)),
			 "https://u:***@chat.example/*** https://chat.example");
	cr_assert_eq(rs_settings_set(&s, on, "sometimes", RS_SRC_CLI), RS_EUSAGE);
	cr_assert_eq(rs_settings_set(&s, on, "failure", RS_SRC_CLI), 0);
	rs_secret_clear();
	cr_assert_eq(rs_settings_resolve_secrets(&s), 0);
	cr_assert(rs_contains_secret("pw-s3cret"), "the password is given to the redactor");
	cr_assert(rs_contains_secret("/hooks/T0K"), "and the path");
	rs_secret_clear();
	rs_settings_release(&s);
}

Test(settings, a_list_setting_collects_its_strongest_source)
{
	struct rs_settings s;
	int in_use = rs_settings_lookup("in-use");
	char shown[256];

	rs_settings_init(&s);
	cr_assert_eq(rs_setting_table[in_use].type, RS_SET_LIST);
	cr_assert_eq(rs_settings_set(&s, in_use, "a.txt", RS_SRC_FILE), 0);
	cr_assert_eq(rs_settings_set(&s, in_use, "b.txt", RS_SRC_FILE), 0);
	cr_assert_eq(s.in_use.count, 2, "the same source adds");
	/* the environment: colon-separated, as KUBECONFIG; it replaces the file's */
	cr_assert_eq(rs_settings_set(&s, in_use, "c.txt::d.txt", RS_SRC_ENV), 0);
	cr_assert_eq(s.in_use.count, 2);
	cr_assert_str_eq(s.in_use.items[0], "c.txt");
	cr_assert_str_eq(s.in_use.items[1], "d.txt");
	cr_assert_eq(rs_settings_set(&s, in_use, "e.txt", RS_SRC_FILE), 0);
	cr_assert_eq(s.in_use.count, 2, "a weaker source adds nothing");
	cr_assert_eq(rs_settings_set(&s, in_use, "-", RS_SRC_CLI), 0);
	cr_assert_eq(rs_settings_set(&s, in_use, "f:g.txt", RS_SRC_CLI), 0);
	cr_assert_eq(s.in_use.count, 2);
	cr_assert_str_eq(s.in_use.items[1], "f:g.txt", "an option's value is one file");
	cr_assert_str_eq(rs_settings_format(&s, in_use, shown, sizeof(shown)), "-, f:g.txt");
	cr_assert_eq(rs_settings_set(&s, in_use, "", RS_SRC_CLI), RS_EUSAGE);
	rs_settings_release(&s);
	cr_assert_eq(s.in_use.count, 0);
}

Test(settings, order_takes_three_values)
{
	struct rs_settings s;
	int order = rs_settings_lookup("order");

	rs_settings_init(&s);
	cr_assert_null(s.order);
	cr_assert_eq(rs_settings_set(&s, order, "version", RS_SRC_CLI), 0);
	cr_assert_str_eq(s.order, "version");
	cr_assert_eq(rs_settings_set(&s, order, "newest", RS_SRC_CLI), RS_EUSAGE);
	cr_assert_str_eq(rs_error_message(), "invalid value 'newest' for 'order' (use created, "
			 "pushed or version)");
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
