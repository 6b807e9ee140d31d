/* policy.h: the retention policy: which rule claims a tag, and what a rule
 * keeps.
 *
 * A policy is an ordered list of rules plus what to do with untagged
 * manifests. Each tag of each repository is claimed by the first rule
 * whose repository and tag patterns both match; a tag no rule claims is
 * kept. A rule keeps everything it claims (`keep: all`), nothing
 * (`keep: none`), or the newest `keep_last: N` and/or those newer than
 * `keep_newer_than: 30d` (a tag survives if either keeps it); tags matching
 * its `keep_tags`, or the policy-wide keep_tags, are always kept.
 *
 * What "newest" means is the rule's `order`:
 *   - created (the default): the image's `created` date from its config;
 *   - pushed: when the tag was last pushed, which only the storage view
 *     knows (its `current/link`'s time): a policy that needs it without a
 *     storage view (`ssh`, `storage_root` or `registry_config`) is a usage
 *     error that says what to add;
 *   - version: the tag names compared as versions (policy/version.h);
 *     keep_newer_than then still goes by the created date.
 * A rule's own `order:` wins; else the setting `order` (the top level of
 * the config file, REGSWEEP_ORDER, --order), which is also the command-line
 * rule's.
 *
 * Images in use (`in_use`: lists of image references, policy/inuse.h) are
 * kept whatever the rules say; rs_policy_build reads those lists.
 *
 * Patterns are globs (fnmatch without flags: a star also matches a slash,
 * so "app/" + star matches `app/web/api`), or POSIX extended regular
 * expressions after a `regex:` prefix, anchored at both ends. A list in
 * settings is written with commas ("v*,latest"); commas inside a regex's
 * braces, brackets or parentheses do not split it. An empty list matches
 * everything.
 *
 * Where the rules come from:
 *   - the settings rule: when `repos`, `tags`, `keep_last` or
 *     `keep_newer_than` is set (command line, environment or a top-level
 *     key of the config file), it is the only rule, named "command line",
 *     and replaces the config file's `rules:` (with a notice). Setting
 *     `repos` or `tags` without `keep_last` / `keep_newer_than` is an
 *     error: the rule would not say what it keeps.
 *   - otherwise the config file's `rules:`, in order;
 *   - otherwise no rule: every tag stays, only untagged history goes.
 * `keep_tags`, `untagged`, `untagged_grace` and `untag` always come from
 * the settings (which the config file's top level feeds).
 *
 * The policy owns everything it holds; free it with rs_policy_free().
 */
#ifndef RS_POLICY_H
#define RS_POLICY_H

#include "base/buf.h"
#include "config/configfile.h"
#include "config/settings.h"
#include "policy/inuse.h"

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

struct rs_pattern {
	char *text;            /* as written, "regex:" prefix included */
	int is_regex;
	regex_t re;            /* compiled when is_regex */
};

struct rs_pattern_list {
	struct rs_pattern *items;
	size_t count;          /* 0: matches everything */
};

enum rs_order {
	RS_ORDER_CREATED = 0,  /* order: created, the image's config date */
	RS_ORDER_PUSHED,       /* order: pushed, the tag's last push (storage view) */
	RS_ORDER_VERSION       /* order: version, the tag name as a version */
};

enum rs_rule_keep {
	RS_RULE_KEEP_ALL = 0,  /* keep: all */
	RS_RULE_KEEP_NONE,     /* keep: none */
	RS_RULE_KEEP_SOME      /* keep_last and/or keep_newer_than */
};

struct rs_rule {
	char *name;                    /* "rule 2" when the file gives none */
	struct rs_pattern_list repos;
	struct rs_pattern_list tags;
	struct rs_pattern_list keep_tags;
	enum rs_rule_keep keep;
	int keep_last;                 /* -1: not set */
	int64_t keep_newer_than;       /* seconds, -1: not set */
	enum rs_order order;           /* what "newest" means */
	int line;                      /* line in the config file, 0 if none */
};

struct rs_policy {
	struct rs_rule *rules;
	size_t nrules;
	struct rs_pattern_list keep_tags;  /* policy-wide: always kept */
	int untagged_delete;               /* untagged: delete (1) or keep (0) */
	int64_t untagged_grace;            /* seconds */
	enum rs_order order;               /* the default for rules that name none */
	struct rs_inuse *in_use;           /* images in use, or NULL when none is listed */
	int untag;                         /* a dropped tag on a kept digest goes alone */
	char *source;                      /* "config file 'x'", "command line", "none" */
};

/* Build the policy from the config file's rules (cfg may be NULL) and the
 * settings, as described above, reading the in-use lists the settings name
 * ("-": standard input). *out is the caller's. Fails with RS_EUSAGE and a
 * message naming the file, line and key (or the option) for unknown rule
 * keys, bad values, invalid patterns, contradictory rules, `order: pushed`
 * without a storage view, and in-use lists that cannot be read. */
int rs_policy_build(struct rs_policy **out, const struct rs_config *cfg,
		    const struct rs_settings *s);
void rs_policy_free(struct rs_policy *policy);

/* Does deciding need image dates (a keep_last or keep_newer_than rule that
 * orders by created date, or a keep_newer_than rule that orders by version)? */
int rs_policy_needs_dates(const struct rs_policy *policy);

/* The first rule that ranks by push time (order: pushed), or -1. */
int rs_policy_needs_push_times(const struct rs_policy *policy);

/* "created", "pushed", "version". */
const char *rs_order_name(enum rs_order order);

/* The index of the rule that claims `tag` in `repo`, or -1 if none does. */
int rs_policy_claim(const struct rs_policy *policy, const char *repo, const char *tag);

/* Is `tag` always kept, by the policy-wide keep_tags or (rule >= 0) that
 * rule's? *pattern, when not NULL, is set to the pattern that matched. */
int rs_policy_always_keeps(const struct rs_policy *policy, int rule, const char *tag,
			   const char **pattern);

/* Parse a comma-separated pattern list (NULL or "" gives an empty list).
 * `what` names the source for messages ("--tags"). */
int rs_pattern_list_parse(struct rs_pattern_list *out, const char *text, const char *what);
/* Add one pattern. */
int rs_pattern_list_add(struct rs_pattern_list *list, const char *pattern, const char *what);
void rs_pattern_list_release(struct rs_pattern_list *list);

/* Does `text` match any pattern of the list (an empty list matches)?
 * *pattern, when not NULL, is set to the one that matched (NULL for an
 * empty list). */
int rs_pattern_list_match(const struct rs_pattern_list *list, const char *text,
			  const char **pattern);

/* Is `tag` a cosign-style tag (sha256-HEX.sig, .att, .sbom)? If so and
 * `subject` is not NULL, write the subject digest ("sha256:HEX") there and
 * set *kind to "signature", "attestation" or "SBOM". */
int rs_cosign_tag(const char *tag, char *subject, size_t subject_size, const char **kind);

/* A duration as people write it in a policy: "24h", "30d", "90m", "1h30m"
 * (whole days from three days up, else whole hours, else exact). */
char *rs_policy_duration(char *out, size_t outsize, int64_t seconds);

/* A one-line summary: "rule 'ci' (repos app/web, tags v1,latest): keep_last 10;
 * keep_tags latest; untagged: delete after 24h". */
int rs_policy_describe(struct rs_buf *out, const struct rs_policy *policy);

#endif
