/* test_configfile.c: the YAML config file: settings, rules, errors naming
 * file, line and key, and the warning for readable secrets. */
#include "config/configfile.h"
#include "base/error.h"
#include "base/log.h"
#include "config/settings.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct rs_config *parse_ok(const char *yaml)
{
	struct rs_config *cfg = NULL;
	int rc = rs_config_parse(&cfg, "regsweep.yml", yaml, strlen(yaml));

	cr_assert_eq(rc, 0, "%s", rs_error_message());
	return cfg;
}

static void parse_fails(const char *yaml, const char *message)
{
	struct rs_config *cfg = (struct rs_config *)1;
	int rc = rs_config_parse(&cfg, "regsweep.yml", yaml, strlen(yaml));

	cr_assert_eq(rc, RS_EUSAGE, "expected a usage error for: %s", yaml);
	cr_assert_null(cfg);
	cr_assert_str_eq(rs_error_message(), message);
}

Test(configfile, settings_apply_as_file_source)
{
	struct rs_config *cfg = parse_ok("registry: https://r.example\njobs: 4\n"
					 "untagged_grace: 48h\ndry_run: yes\n");
	struct rs_settings s;

	rs_settings_init(&s);
	cr_assert_eq(rs_config_apply_settings(cfg, &s), 0, "%s", rs_error_message());
	cr_assert_str_eq(s.registry, "https://r.example");
	cr_assert_eq(s.jobs, 4);
	cr_assert_eq(s.untagged_grace, 48 * 3600);
	cr_assert_eq(s.dry_run, 1);
	cr_assert_eq(s.sources[rs_settings_lookup("jobs")], RS_SRC_FILE);
	cr_assert_eq(rs_config_has_rules(cfg), 0);
	rs_settings_release(&s);
	rs_config_free(cfg);
}

Test(configfile, stronger_sources_win)
{
	struct rs_config *cfg = parse_ok("jobs: 4\n");
	struct rs_settings s;

	rs_settings_init(&s);
	rs_settings_set(&s, rs_settings_lookup("jobs"), "2", RS_SRC_CLI);
	cr_assert_eq(rs_config_apply_settings(cfg, &s), 0);
	cr_assert_eq(s.jobs, 2);
	rs_settings_release(&s);
	rs_config_free(cfg);
}

Test(configfile, pattern_lists_are_joined_with_commas)
{
	struct rs_config *cfg = parse_ok("keep_tags:\n  - latest\n  - 'v*'\ntags: [a, b]\n");
	struct rs_settings s;

	rs_settings_init(&s);
	cr_assert_eq(rs_config_apply_settings(cfg, &s), 0);
	cr_assert_str_eq(s.keep_tags, "latest,v*");
	cr_assert_str_eq(s.tags, "a,b");
	rs_settings_release(&s);
	rs_config_free(cfg);
}

Test(configfile, in_use_takes_a_list_or_one_file)
{
	struct rs_config *cfg = parse_ok("in_use:\n  - pods,a.txt\n  - docker.txt\norder: pushed\n");
	struct rs_settings s;

	rs_settings_init(&s);
	cr_assert_eq(rs_config_apply_settings(cfg, &s), 0, "%s", rs_error_message());
	cr_assert_eq(s.in_use.count, 2, "each value on its own, commas and all");
	cr_assert_str_eq(s.in_use.items[0], "pods,a.txt");
	cr_assert_str_eq(s.in_use.items[1], "docker.txt");
	cr_assert_str_eq(s.order, "pushed");
	rs_settings_release(&s);
	rs_config_free(cfg);

	cfg = parse_ok("in_use: pods.txt\n");
	rs_settings_init(&s);
	cr_assert_eq(rs_config_apply_settings(cfg, &s), 0, "%s", rs_error_message());
	cr_assert_eq(s.in_use.count, 1);
	/* the command line replaces the file's lists */
	cr_assert_eq(rs_settings_set(&s, rs_settings_lookup("in-use"), "-", RS_SRC_CLI), 0);
	cr_assert_eq(s.in_use.count, 1);
	cr_assert_str_eq(s.in_use.items[0], "-");
	rs_settings_release(&s);
	rs_config_free(cfg);
	parse_fails("order: [pushed]\n", "regsweep.yml:1: 'order' takes one value, not a list");
}

Test(configfile, null_values_leave_settings_alone)
{
	struct rs_config *cfg = parse_ok("registry:\nssh: ~\n");
	struct rs_settings s;

	rs_settings_init(&s);
	cr_assert_eq(rs_config_apply_settings(cfg, &s), 0);
	cr_assert_null(s.registry);
	cr_assert_null(s.ssh);
	rs_settings_release(&s);
	rs_config_free(cfg);
}

Test(configfile, rules_are_kept_in_order_with_lines)
{
	struct rs_config *cfg = parse_ok("untagged: delete\n"
					 "rules:\n"
					 "  - name: ci-builds\n"
					 "    repos: [app/*]\n"
					 "    keep_last: 10\n"
					 "  - name: rest\n"
					 "    keep: all\n");
	const struct rs_config_rule *r0, *r1;

	cr_assert_eq(rs_config_has_rules(cfg), 1);
	cr_assert_eq(rs_config_rule_count(cfg), 2);
	r0 = rs_config_rule_at(cfg, 0);
	r1 = rs_config_rule_at(cfg, 1);
	cr_assert_eq(r0->line, 3);
	cr_assert_eq(r0->nfields, 3);
	cr_assert_str_eq(r0->fields[0].key, "name");
	cr_assert_str_eq(r0->fields[0].value.items[0], "ci-builds");
	cr_assert_str_eq(r0->fields[1].key, "repos");
	cr_assert_eq(r0->fields[1].value.is_list, 1);
	cr_assert_str_eq(r0->fields[1].value.items[0], "app/*");
	cr_assert_eq(r0->fields[2].line, 5);
	cr_assert_str_eq(r1->fields[1].value.items[0], "all");
	cr_assert_null(rs_config_rule_at(cfg, 2));
	cr_assert_not_null(rs_config_setting(cfg, "untagged"));
	cr_assert_null(rs_config_setting(cfg, "rules"));
	rs_config_free(cfg);
}

Test(configfile, empty_file_and_empty_rules)
{
	struct rs_config *cfg = parse_ok("");

	cr_assert_eq(rs_config_rule_count(cfg), 0);
	rs_config_free(cfg);
	cfg = parse_ok("rules:\n");
	cr_assert_eq(rs_config_has_rules(cfg), 1);
	cr_assert_eq(rs_config_rule_count(cfg), 0);
	rs_config_free(cfg);
}

Test(configfile, errors_name_file_line_and_key)
{
	parse_fails("registry: x\nkepp_last: 3\n", "regsweep.yml:2: unknown key 'kepp_last'");
	parse_fails("jobs: 1\njobs: 2\n", "regsweep.yml:2: duplicate key 'jobs'");
	parse_fails("jobs: [1, 2]\n", "regsweep.yml:1: 'jobs' takes one value, not a list");
	parse_fails("registry:\n  url: x\n",
		    "regsweep.yml:2: 'registry' must be a value or a list, not a mapping");
	parse_fails("out: plan.json\n", "regsweep.yml:1: 'out' cannot be set in the config file");
	parse_fails("config: other.yml\n",
		    "regsweep.yml:1: 'config' cannot be set in the config file");
	parse_fails("- a\n- b\n",
		    "regsweep.yml:1: the file must be a mapping of settings (key: value)");
	parse_fails("rules: all\n", "regsweep.yml:1: 'rules' must be a list of rules");
	parse_fails("rules:\n  - keep_last\n",
		    "regsweep.yml:2: each rule must be a mapping (name: ..., tags: ..., keep_last: ...)");
	parse_fails("rules:\n  - tags: {a: b}\n",
		    "regsweep.yml:2: 'tags' must be a value or a list, not a mapping");
	parse_fails("keep-last: 3\n", "regsweep.yml:1: unknown key 'keep-last'");
}

Test(configfile, yaml_syntax_errors_name_the_line)
{
	struct rs_config *cfg = NULL;
	const char *yaml = "registry: x\njobs: [1\n";

	cr_assert_eq(rs_config_parse(&cfg, "f.yml", yaml, strlen(yaml)), RS_EUSAGE);
	cr_assert_eq(strncmp(rs_error_message(), "f.yml:3: ", 9), 0, "%s", rs_error_message());
}

Test(configfile, bad_values_name_file_and_line)
{
	struct rs_config *cfg = parse_ok("registry: x\njobs: many\n");
	struct rs_settings s;

	rs_settings_init(&s);
	cr_assert_eq(rs_config_apply_settings(cfg, &s), RS_EUSAGE);
	cr_assert_str_eq(rs_error_message(),
			 "regsweep.yml:2: invalid value 'many' for 'jobs' (want a number >= 0)");
	rs_settings_release(&s);
	rs_config_free(cfg);
}

static char warned[1024];

static void capture(enum rs_log_level level, const char *line, void *ud)
{
	(void)ud;
	if (level == RS_LOG_WARN)
		snprintf(warned, sizeof(warned), "%s", line);
}

static char *write_config(const char *text, mode_t mode)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "cfg-test-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
	return path;
}

Test(configfile, readable_secret_draws_a_warning)
{
	struct rs_config *cfg = NULL;
	char *path = write_config("registry: x\npassword: hunter2\n", 0644);

	warned[0] = '\0';
	rs_log_set_handler(capture, NULL);
	cr_assert_eq(rs_config_load(&cfg, path), 0, "%s", rs_error_message());
	cr_assert(strstr(warned, "holds a secret"), "warning: '%s'", warned);
	cr_assert_null(strstr(warned, "hunter2"));
	rs_config_free(cfg);

	warned[0] = '\0';
	chmod(path, 0600);
	cr_assert_eq(rs_config_load(&cfg, path), 0);
	cr_assert_str_eq(warned, "");
	rs_config_free(cfg);
	unlink(path);
	rs_log_set_handler(NULL, NULL);
}

Test(configfile, no_warning_without_secrets)
{
	struct rs_config *cfg = NULL;
	char *path = write_config("registry: x\npassword_file: /run/secret\n", 0644);

	warned[0] = '\0';
	rs_log_set_handler(capture, NULL);
	cr_assert_eq(rs_config_load(&cfg, path), 0);
	cr_assert_str_eq(warned, "");
	rs_config_free(cfg);
	unlink(path);
	rs_log_set_handler(NULL, NULL);
}

Test(configfile, missing_file)
{
	struct rs_config *cfg = (struct rs_config *)1;

	cr_assert_eq(rs_config_load(&cfg, "no-such-config.yml"), RS_ERROR);
	cr_assert_null(cfg);
	cr_assert(strstr(rs_error_message(), "'no-such-config.yml'"));
}

Test(configfile, a_list_setting_takes_each_item)
{
	struct rs_config *cfg = parse_ok("notify:\n  - http://a.example/1\n  - http://b.example/2\n"
					 "notify_on: change\nhtml: page.html\n");
	struct rs_settings s;

	rs_settings_init(&s);
	cr_assert_eq(rs_config_apply_settings(cfg, &s), 0, "%s", rs_error_message());
	cr_assert_eq(s.notify.count, 2);
	cr_assert_str_eq(s.notify.items[1], "http://b.example/2");
	cr_assert_str_eq(s.notify_on, "change");
	cr_assert_str_eq(s.html, "page.html");
	rs_settings_release(&s);
	rs_config_free(cfg);
	parse_fails("html: [a, b]\n", "regsweep.yml:1: 'html' takes one value, not a list");
}

Test(configfile, the_deadline_from_the_file)
{
	struct rs_config *cfg = parse_ok("deadline: 90m\n");
	struct rs_settings s;

	rs_settings_init(&s);
	cr_assert_eq(rs_config_apply_settings(cfg, &s), 0, "%s", rs_error_message());
	cr_assert_eq(s.deadline, 90 * 60);
	cr_assert_eq(s.sources[rs_settings_lookup("deadline")], RS_SRC_FILE);
	rs_settings_release(&s);
	rs_config_free(cfg);
}
