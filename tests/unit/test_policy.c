/* test_policy.c: building the policy (file rules, the command-line rule),
 * pattern matching and the errors users see. */
#include "config/configfile.h"
#include "base/error.h"
#include "policy/policy.h"
#include "config/settings.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int build(struct rs_policy **out, const char *yaml, const char *const *cli)
{
	struct rs_config *cfg = NULL;
	struct rs_settings s;
	int rc = 0;

	rs_settings_init(&s);
	if (yaml) {
		rc = rs_config_parse(&cfg, "p.yml", yaml, strlen(yaml));
		cr_assert_eq(rc, 0, "%s", rs_error_message());
		rc = rs_config_apply_settings(cfg, &s);
		cr_assert_eq(rc, 0, "%s", rs_error_message());
	}
	for (size_t i = 0; cli && cli[i]; i += 2)
		cr_assert_eq(rs_settings_set(&s, rs_settings_lookup(cli[i]), cli[i + 1], RS_SRC_CLI),
			     0, "%s", rs_error_message());
	rc = rs_policy_build(out, cfg, &s);
	rs_config_free(cfg);
	rs_settings_release(&s);
	return rc;
}

static struct rs_policy *build_ok(const char *yaml, const char *const *cli)
{
	struct rs_policy *p = NULL;

	cr_assert_eq(build(&p, yaml, cli), 0, "%s", rs_error_message());
	return p;
}

static void build_fails(const char *yaml, const char *const *cli, const char *message)
{
	struct rs_policy *p = (struct rs_policy *)1;

	cr_assert_eq(build(&p, yaml, cli), RS_EUSAGE);
	cr_assert_null(p);
	cr_assert_str_eq(rs_error_message(), message);
}

Test(policy, globs_and_regexes)
{
	struct rs_pattern_list list;
	const char *hit;

	cr_assert_eq(rs_pattern_list_parse(&list, "v*, latest ,regex:(pr|mr)-[0-9]{1,4}", "t"), 0);
	cr_assert_eq(list.count, 3);
	cr_assert(rs_pattern_list_match(&list, "v1.2", &hit));
	cr_assert_str_eq(hit, "v*");
	cr_assert(rs_pattern_list_match(&list, "latest", NULL));
	cr_assert(rs_pattern_list_match(&list, "pr-12", &hit));
	cr_assert_str_eq(hit, "regex:(pr|mr)-[0-9]{1,4}");
	/* regexes are anchored */
	cr_assert_not(rs_pattern_list_match(&list, "xpr-12", NULL));
	cr_assert_not(rs_pattern_list_match(&list, "pr-12345", NULL));
	cr_assert_not(rs_pattern_list_match(&list, "latest2", NULL));
	rs_pattern_list_release(&list);
}

Test(policy, glob_star_crosses_slashes)
{
	struct rs_pattern_list list;

	cr_assert_eq(rs_pattern_list_parse(&list, "app/*", "t"), 0);
	cr_assert(rs_pattern_list_match(&list, "app/web", NULL));
	cr_assert(rs_pattern_list_match(&list, "app/web/api", NULL));
	cr_assert_not(rs_pattern_list_match(&list, "apps/web", NULL));
	rs_pattern_list_release(&list);
}

Test(policy, empty_list_matches_everything)
{
	struct rs_pattern_list list;

	cr_assert_eq(rs_pattern_list_parse(&list, "", "t"), 0);
	cr_assert_eq(list.count, 0);
	cr_assert(rs_pattern_list_match(&list, "anything", NULL));
	rs_pattern_list_release(&list);
}

Test(policy, invalid_regex_is_refused)
{
	struct rs_pattern_list list;

	cr_assert_eq(rs_pattern_list_parse(&list, "regex:(unclosed", "--tags"), RS_EUSAGE);
	cr_assert_eq(strncmp(rs_error_message(), "--tags: invalid regular expression '(unclosed'", 46),
		     0, "%s", rs_error_message());
	cr_assert_eq(list.count, 0);
}

Test(policy, no_rules_keeps_tags_deletes_untagged_after_grace)
{
	struct rs_policy *p = build_ok(NULL, NULL);

	cr_assert_eq(p->nrules, 0);
	cr_assert_eq(p->untagged_delete, 1);
	cr_assert_eq(p->untagged_grace, 24 * 3600);
	cr_assert_eq(rs_policy_claim(p, "app", "v1"), -1);
	cr_assert_eq(rs_policy_needs_dates(p), 0);
	cr_assert_str_eq(p->source, "none");
	rs_policy_free(p);
}

Test(policy, file_rules_in_order)
{
	struct rs_policy *p = build_ok("untagged: keep\n"
				       "rules:\n"
				       "  - name: releases\n    tags: 'v*'\n    keep: all\n"
				       "  - name: ci-builds\n    repos: [app/*, 'regex:svc-[a-z]+']\n"
				       "    keep_last: 10\n    keep_newer_than: 30d\n"
				       "    keep_tags: [latest]\n"
				       "  - tags: tmp-*\n    keep: none\n", NULL);

	cr_assert_eq(p->nrules, 3);
	cr_assert_eq(p->untagged_delete, 0);
	cr_assert_str_eq(p->rules[2].name, "rule 3");
	cr_assert_eq(p->rules[1].keep, RS_RULE_KEEP_SOME);
	cr_assert_eq(p->rules[1].keep_last, 10);
	cr_assert_eq(p->rules[1].keep_newer_than, 30 * 86400);
	cr_assert_eq(rs_policy_claim(p, "app/web", "v1"), 0);
	cr_assert_eq(rs_policy_claim(p, "app/web", "build-1"), 1);
	cr_assert_eq(rs_policy_claim(p, "svc-api", "build-1"), 1);
	cr_assert_eq(rs_policy_claim(p, "svc-API", "build-1"), -1);
	cr_assert_eq(rs_policy_claim(p, "other", "tmp-3"), 2);
	cr_assert_eq(rs_policy_claim(p, "other", "build-1"), -1);
	cr_assert(rs_policy_always_keeps(p, 1, "latest", NULL));
	cr_assert_not(rs_policy_always_keeps(p, 2, "latest", NULL));
	cr_assert(rs_policy_needs_dates(p));
	cr_assert_str_eq(p->source, "config file 'p.yml'");
	rs_policy_free(p);
}

Test(policy, command_line_rule_replaces_file_rules)
{
	static const char *const cli[] = {"repos", "app/*", "keep_last", "3", "keep_tags", "stable",
					  NULL};
	struct rs_policy *p = build_ok("rules:\n  - keep: none\n", cli);

	cr_assert_eq(p->nrules, 1);
	cr_assert_str_eq(p->rules[0].name, "command line");
	cr_assert_eq(p->rules[0].keep_last, 3);
	cr_assert_eq(p->rules[0].keep_newer_than, -1);
	cr_assert_eq(rs_policy_claim(p, "app/x", "anything"), 0);
	cr_assert_eq(rs_policy_claim(p, "lib", "anything"), -1);
	cr_assert(rs_policy_always_keeps(p, -1, "stable", NULL));
	cr_assert_str_eq(p->source, "command line");
	rs_policy_free(p);
}

Test(policy, describe)
{
	static const char *const cli[] = {"tags", "ci-*", "keep_last", "10", "keep_newer_than", "7d",
					  "keep_tags", "latest", "untagged_grace", "2h", NULL};
	struct rs_buf buf = RS_BUF_INIT;
	struct rs_policy *p = build_ok(NULL, cli);

	cr_assert_eq(rs_policy_describe(&buf, p), 0);
	cr_assert_str_eq(rs_buf_cstr(&buf), "rule 'command line' (all repos, tags ci-*): keep_last 10, "
			 "keep_newer_than 7d; keep_tags latest; untagged: delete after 2h");
	rs_buf_release(&buf);
	rs_policy_free(p);
}

Test(policy, refusals)
{
	static const char *const repos_only[] = {"repos", "app", NULL};
	static const char *const empty_tags[] = {"tags", " , ", "keep_last", "1", NULL};

	build_fails("rules:\n  - name: x\n    tags: v*\n",  NULL,
		    "p.yml:2: rule 'x' does not say what it keeps: add keep: all, keep: none, "
		    "keep_last or keep_newer_than");
	build_fails("rules:\n  - name: x\n    keep: all\n    keep_last: 2\n", NULL,
		    "p.yml:2: rule 'x' has both 'keep: all' and keep_last/keep_newer_than: use one");
	build_fails("rules:\n  - name: x\n    keep: some\n", NULL,
		    "p.yml:3: 'keep': invalid value 'some' (use all or none)");
	build_fails("rules:\n  - name: x\n    keep_last: -1\n", NULL,
		    "p.yml:3: 'keep_last': invalid value '-1' (want a number >= 0)");
	build_fails("rules:\n  - name: x\n    keep_newer_than: soon\n", NULL,
		    "p.yml:3: 'keep_newer_than': invalid duration 'soon' (use forms like 30d, 24h, "
		    "1h30m, 90s)");
	build_fails("rules:\n  - name: x\n    keep: none\n    colour: red\n", NULL,
		    "p.yml:4: unknown key 'colour' in a rule (rules take name, repos, tags, keep, "
		    "keep_last, keep_newer_than, keep_tags, order)");
	build_fails("rules:\n  - name: x\n    keep_last: 2\n    order: newest\n", NULL,
		    "p.yml:4: 'order': invalid value 'newest' (use created, pushed or version)");
	build_fails("rules:\n  - name: x\n    keep: none\n  - name: x\n    keep: all\n", NULL,
		    "p.yml:4: two rules are named 'x'");
	build_fails("keep_last: 3\nrules:\n  - keep: none\n", NULL,
		    "p.yml:1: a top-level 'keep_last' cannot be combined with 'rules': move it into "
		    "a rule");
	build_fails("rules:\n  - tags:\n    keep: none\n", NULL,
		    "p.yml:2: 'tags' is empty: leave it out to match every tag");
	build_fails("rules:\n  - repos: []\n    keep: none\n", NULL,
		    "p.yml:2: 'repos' is empty: leave it out to match every repository");
	build_fails(NULL, empty_tags, "--tags is empty: leave it out to match every tag");
	build_fails(NULL, repos_only,
		    "--repos and --tags choose what the command-line rule applies to: say what it "
		    "keeps with --keep-last or --keep-newer-than");
}

Test(policy, invalid_regex_in_a_rule_names_file_and_line)
{
	struct rs_policy *p = NULL;
	const char *want = "p.yml:2: 'tags': invalid regular expression 'a{': ";

	cr_assert_eq(build(&p, "rules:\n  - tags: 'regex:a{'\n    keep: none\n", NULL), RS_EUSAGE);
	cr_assert_eq(strncmp(rs_error_message(), want, strlen(want)), 0, "%s", rs_error_message());
}

Test(policy, cosign_tags)
{
	char subject[80];
	const char *kind;
	const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char tag[100];

	snprintf(tag, sizeof(tag), "sha256-%s.sig", hex);
	cr_assert(rs_cosign_tag(tag, subject, sizeof(subject), &kind));
	cr_assert_str_eq(kind, "signature");
	cr_assert_eq(strcmp(subject + 7, hex), 0);
	snprintf(tag, sizeof(tag), "sha256-%s.att", hex);
	cr_assert(rs_cosign_tag(tag, NULL, 0, &kind));
	cr_assert_str_eq(kind, "attestation");
	snprintf(tag, sizeof(tag), "sha256-%s.sbom", hex);
	cr_assert(rs_cosign_tag(tag, NULL, 0, NULL));
	snprintf(tag, sizeof(tag), "sha256-%s.txt", hex);
	cr_assert_not(rs_cosign_tag(tag, NULL, 0, NULL));
	cr_assert_not(rs_cosign_tag("sha256-abc.sig", NULL, 0, NULL));
	snprintf(tag, sizeof(tag), "sha256-%.63sG.sig", hex);
	cr_assert_not(rs_cosign_tag(tag, NULL, 0, NULL));
}

Test(policy, order_per_rule_and_by_default)
{
	const char *cli[] = {"order", "version", NULL};
	const char *storage[] = {"storage_root", "/srv/registry", NULL};
	struct rs_policy *p;
	struct rs_buf summary = RS_BUF_INIT;

	p = build_ok("order: version\nrules:\n  - name: a\n    keep_last: 2\n"
		     "  - name: b\n    keep_last: 2\n    order: created\n", NULL);
	cr_assert_eq(p->rules[0].order, RS_ORDER_VERSION, "the top level is the default");
	cr_assert_eq(p->rules[1].order, RS_ORDER_CREATED, "a rule's own order wins");
	cr_assert(rs_policy_needs_dates(p), "rule b still ranks by date");
	cr_assert_eq(rs_policy_describe(&summary, p), 0);
	cr_assert(strstr(rs_buf_cstr(&summary), "rule 'a' (all repos, all tags): keep_last 2, "
			 "order version; rule 'b' (all repos, all tags): keep_last 2;"),
		  "%s", rs_buf_cstr(&summary));
	rs_buf_release(&summary);
	rs_policy_free(p);

	p = build_ok("keep_last: 3\n", cli);
	cr_assert_eq(p->nrules, 1);
	cr_assert_eq(p->rules[0].order, RS_ORDER_VERSION, "--order is the command-line rule's");
	cr_assert_not(rs_policy_needs_dates(p), "versions need no dates");
	cr_assert_eq(rs_policy_needs_push_times(p), -1);
	rs_policy_free(p);

	p = build_ok("rules:\n  - name: by-push\n    keep_last: 2\n    order: pushed\n", storage);
	cr_assert_eq(rs_policy_needs_push_times(p), 0);
	cr_assert_not(rs_policy_needs_dates(p));
	rs_policy_free(p);
	/* keep: all ranks nothing: its order needs no push times */
	p = build_ok("order: pushed\nrules:\n  - keep: all\n", NULL);
	cr_assert_eq(rs_policy_needs_push_times(p), -1);
	rs_policy_free(p);
}

Test(policy, pushed_without_a_storage_view_says_what_to_add)
{
	build_fails("rules:\n  - name: by-push\n    keep_last: 2\n    order: pushed\n", NULL,
		    "rule 'by-push' orders by push time (order: pushed), which only the registry's "
		    "storage knows: add --storage-root DIR (the storage on this machine), or --ssh "
		    "HOST with --storage-root DIR or --registry-config FILE (on the registry host)");
}

static char *write_temp(const char *text)
{
	static char path[64];
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_policy.XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	return path;
}

Test(policy, in_use_lists_are_read)
{
	char a[64], b[64];
	struct rs_policy *p;
	struct rs_buf summary = RS_BUF_INIT;

	snprintf(a, sizeof(a), "%s", write_temp("r.example/app:v1 r.example/app:v2\n"));
	snprintf(b, sizeof(b), "%s", write_temp("r.example/app:v1\nnginx:1.25\n"));
	{
		const char *cli[] = {"in_use", a, "in_use", b, NULL};

		p = build_ok(NULL, cli);
	}
	cr_assert_not_null(p->in_use);
	cr_assert_eq(p->in_use->nrefs, 3, "distinct references of both lists");
	cr_assert_eq(p->in_use->nsources, 2);
	cr_assert_eq(rs_policy_describe(&summary, p), 0);
	cr_assert(strstr(rs_buf_cstr(&summary), "images in use kept (3 references read)"));
	rs_buf_release(&summary);
	rs_policy_free(p);
	unlink(a);
	{
		const char *cli[] = {"in_use", a, NULL};
		char message[256];

		snprintf(message, sizeof(message), "cannot read the in-use list '%s': No such file or "
			 "directory", a);
		build_fails(NULL, cli, message);
	}
	unlink(b);
	p = build_ok(NULL, NULL);
	cr_assert_null(p->in_use, "no lists, no set");
	rs_policy_free(p);
}

Test(policy, in_use_standard_input_once)
{
	const char *twice[] = {"in_use", "-", "in_use", "-", NULL};
	const char *password[] = {"in_use", "-", "password_stdin", "true", NULL};

	build_fails(NULL, twice, "--in-use: standard input ('-') can be read once");
	build_fails(NULL, password, "--in-use - and --password-stdin both read standard input: "
		    "give the password another way");
}
