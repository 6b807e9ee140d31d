/* policy.c: building the retention policy from the config file and the
 * settings, and matching repositories and tags against it. */
#include "policy/policy.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGEX_PREFIX "regex:"
#define MAX_PATTERN 1024
#define MAX_QUANTIFIERS 64
#define MAX_REPEAT 255

/* Would compiling `re` cost without bound? glibc builds an automaton whose
 * size multiplies with stacked quantifiers ("a++++") and large counted
 * repetitions, so those are refused before regcomp sees them. */
static int regex_too_costly(const char *re)
{
	int quantifiers = 0, last_was_quantifier = 0;

	for (const char *c = re; *c; c++) {
		int quantifier = 0;

		if (*c == '\\' && c[1]) {
			c++;
		} else if (*c == '[') {
			/* a bracket expression: ']' first is literal */
			c++;
			if (*c == '^')
				c++;
			if (*c == ']')
				c++;
			while (*c && *c != ']')
				c++;
			if (!*c)
				return 0;   /* regcomp reports the unbalanced bracket */
		} else if (*c == '*' || *c == '+' || *c == '?') {
			quantifier = 1;
		} else if (*c == '{') {
			char *end;
			long lo = strtol(c + 1, &end, 10), hi = lo;

			if (*end == ',')
				hi = end[1] == '}' ? lo : strtol(end + 1, &end, 10);
			if (lo > MAX_REPEAT || hi > MAX_REPEAT)
				return 1;
			quantifier = 1;
		}
		if (quantifier && (last_was_quantifier || ++quantifiers > MAX_QUANTIFIERS))
			return 1;
		last_was_quantifier = quantifier;
		if (*c == '{')
			while (c[1] && *c != '}')
				c++;
	}
	return 0;
}

static const char *const rule_keys[] = {
	"name", "repos", "tags", "keep", "keep_last", "keep_newer_than", "keep_tags", "order"
};

/* ---------------------------------------------------------------- patterns */

int rs_pattern_list_add(struct rs_pattern_list *list, const char *pattern, const char *what)
{
	struct rs_pattern *grown, *p;
	size_t n = strlen(pattern);

	if (!n)
		return rs_error_set(RS_EUSAGE, "%s: empty pattern", what);
	if (n > MAX_PATTERN)
		return rs_error_set(RS_EUSAGE, "%s: pattern longer than %d characters", what,
				    MAX_PATTERN);
	grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
	if (!grown)
		return rs_error_set(RS_ERROR, "out of memory");
	list->items = grown;
	p = &list->items[list->count];
	memset(p, 0, sizeof(*p));
	if (!(p->text = strdup(pattern)))
		return rs_error_set(RS_ERROR, "out of memory");
	if (strncmp(pattern, REGEX_PREFIX, strlen(REGEX_PREFIX)) == 0) {
		const char *body = pattern + strlen(REGEX_PREFIX);
		char anchored[MAX_PATTERN + 8];
		int rc;

		if (!*body) {
			free(p->text);
			return rs_error_set(RS_EUSAGE, "%s: empty regular expression", what);
		}
		if (regex_too_costly(body)) {
			free(p->text);
			return rs_error_set(RS_EUSAGE, "%s: regular expression '%s' stacks repetitions "
					    "(like '++' or '{300}'), which POSIX leaves undefined and which "
					    "can exhaust memory: simplify it", what, body);
		}
		snprintf(anchored, sizeof(anchored), "^(%s)$", body);
		rc = regcomp(&p->re, anchored, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[256];

			regerror(rc, &p->re, msg, sizeof(msg));
			free(p->text);
			return rs_error_set(RS_EUSAGE, "%s: invalid regular expression '%s': %s", what,
					    body, msg);
		}
		p->is_regex = 1;
	}
	list->count++;
	return 0;
}

void rs_pattern_list_release(struct rs_pattern_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		if (list->items[i].is_regex)
			regfree(&list->items[i].re);
		free(list->items[i].text);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

/* Length of the next comma-separated item; commas nested in a regex's
 * (), [] or {} belong to it. */
static size_t item_length(const char *p)
{
	int is_regex = strncmp(p, REGEX_PREFIX, strlen(REGEX_PREFIX)) == 0;
	int depth = 0;
	size_t n = 0;

	for (; p[n]; n++) {
		char c = p[n];

		if (is_regex && c == '\\' && p[n + 1]) {
			n++;
			continue;
		}
		if (is_regex && (c == '(' || c == '[' || c == '{'))
			depth++;
		else if (is_regex && (c == ')' || c == ']' || c == '}') && depth > 0)
			depth--;
		else if (c == ',' && depth == 0)
			break;
	}
	return n;
}

int rs_pattern_list_parse(struct rs_pattern_list *out, const char *text, const char *what)
{
	const char *p = text;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!text)
		return 0;
	while (rc == 0 && *p) {
		size_t n = item_length(p), start = 0, end = n;
		char item[MAX_PATTERN + 1];

		while (start < end && isspace((unsigned char)p[start]))
			start++;
		while (end > start && isspace((unsigned char)p[end - 1]))
			end--;
		if (end - start > MAX_PATTERN)
			rc = rs_error_set(RS_EUSAGE, "%s: pattern longer than %d characters", what,
					  MAX_PATTERN);
		else if (end > start) {
			memcpy(item, p + start, end - start);
			item[end - start] = '\0';
			rc = rs_pattern_list_add(out, item, what);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (rc < 0)
		rs_pattern_list_release(out);
	return rc;
}

int rs_pattern_list_match(const struct rs_pattern_list *list, const char *text,
			  const char **pattern)
{
	if (pattern)
		*pattern = NULL;
	if (!list->count)
		return 1;
	for (size_t i = 0; i < list->count; i++) {
		const struct rs_pattern *p = &list->items[i];
		int hit = p->is_regex ? regexec(&p->re, text, 0, NULL, 0) == 0
				      : fnmatch(p->text, text, 0) == 0;

		if (hit) {
			if (pattern)
				*pattern = p->text;
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------- rules */

static void rule_release(struct rs_rule *rule)
{
	free(rule->name);
	rs_pattern_list_release(&rule->repos);
	rs_pattern_list_release(&rule->tags);
	rs_pattern_list_release(&rule->keep_tags);
}

void rs_policy_free(struct rs_policy *policy)
{
	if (!policy)
		return;
	for (size_t i = 0; i < policy->nrules; i++)
		rule_release(&policy->rules[i]);
	free(policy->rules);
	rs_pattern_list_release(&policy->keep_tags);
	rs_inuse_free(policy->in_use);
	free(policy->source);
	free(policy);
}

static int parse_count(int *out, const char *text)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (errno || end == text || *end || n < 0 || n > INT_MAX)
		return -1;
	*out = (int)n;
	return 0;
}

static int parse_order(enum rs_order *out, const char *text)
{
	static const enum rs_order orders[] = {RS_ORDER_CREATED, RS_ORDER_PUSHED, RS_ORDER_VERSION};

	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++)
		if (strcmp(text, rs_order_name(orders[i])) == 0) {
			*out = orders[i];
			return 0;
		}
	return -1;
}

const char *rs_order_name(enum rs_order order)
{
	switch (order) {
	case RS_ORDER_PUSHED: return "pushed";
	case RS_ORDER_VERSION: return "version";
	default: return "created";
	}
}

/* A rule's patterns: a list, or one scalar that may hold commas. */
static int rule_patterns(struct rs_pattern_list *out, const struct rs_config_value *v,
			 const char *where)
{
	int rc = 0;

	if (!v->is_list)
		return v->count ? rs_pattern_list_parse(out, v->items[0], where) : 0;
	for (size_t i = 0; rc == 0 && i < v->count; i++)
		rc = rs_pattern_list_add(out, v->items[i], where);
	if (rc < 0)
		rs_pattern_list_release(out);
	return rc;
}

static const char *scalar(const struct rs_config_field *f)
{
	return f->value.count == 1 && !f->value.is_list ? f->value.items[0] : NULL;
}

static int rule_field(struct rs_rule *rule, int *has_keep, const struct rs_config_field *f,
		      const char *path)
{
	char where[1200];
	const char *v = scalar(f);
	int known = 0;

	for (size_t i = 0; i < sizeof(rule_keys) / sizeof(rule_keys[0]); i++)
		known |= strcmp(f->key, rule_keys[i]) == 0;
	if (!known)
		return rs_error_set(RS_EUSAGE, "%s:%d: unknown key '%s' in a rule (rules take name, "
				    "repos, tags, keep, keep_last, keep_newer_than, keep_tags, order)",
				    path, f->line, f->key);
	snprintf(where, sizeof(where), "%s:%d: '%s'", path, f->value.line, f->key);
	if (strcmp(f->key, "repos") == 0 || strcmp(f->key, "tags") == 0) {
		struct rs_pattern_list *list = f->key[0] == 'r' ? &rule->repos : &rule->tags;
		int rc = rule_patterns(list, &f->value, where);

		/* an empty pattern list would claim everything: a slip, not a wish */
		if (rc == 0 && !list->count)
			rc = rs_error_set(RS_EUSAGE, "%s is empty: leave it out to match every %s",
					  where, f->key[0] == 'r' ? "repository" : "tag");
		return rc;
	}
	if (strcmp(f->key, "keep_tags") == 0)
		return rule_patterns(&rule->keep_tags, &f->value, where);
	if (!v)
		return rs_error_set(RS_EUSAGE, "%s takes one value", where);
	if (strcmp(f->key, "name") == 0) {
		free(rule->name);
		rule->name = strdup(v);
		return rule->name ? 0 : rs_error_set(RS_ERROR, "out of memory");
	}
	if (strcmp(f->key, "keep") == 0) {
		if (strcmp(v, "all") == 0)
			rule->keep = RS_RULE_KEEP_ALL;
		else if (strcmp(v, "none") == 0)
			rule->keep = RS_RULE_KEEP_NONE;
		else
			return rs_error_set(RS_EUSAGE, "%s: invalid value '%s' (use all or none)", where,
					    v);
		*has_keep = 1;
		return 0;
	}
	if (strcmp(f->key, "order") == 0) {
		if (parse_order(&rule->order, v) < 0)
			return rs_error_set(RS_EUSAGE, "%s: invalid value '%s' (use created, pushed or "
					    "version)", where, v);
		return 0;
	}
	if (strcmp(f->key, "keep_last") == 0) {
		if (parse_count(&rule->keep_last, v) < 0)
			return rs_error_set(RS_EUSAGE, "%s: invalid value '%s' (want a number >= 0)",
					    where, v);
		return 0;
	}
	/* keep_newer_than */
	if (rs_duration_parse(&rule->keep_newer_than, v) < 0)
		return rs_error_prefix("%s: ", where);
	return 0;
}

static int rule_from_config(struct rs_rule *rule, const struct rs_config_rule *cr, size_t index,
			    const char *path)
{
	char fallback[32];
	int has_keep = 0, rc = 0;

	rule->line = cr->line;
	for (size_t i = 0; rc == 0 && i < cr->nfields; i++)
		rc = rule_field(rule, &has_keep, &cr->fields[i], path);
	if (rc < 0)
		return rc;
	if (!rule->name) {
		snprintf(fallback, sizeof(fallback), "rule %zu", index + 1);
		if (!(rule->name = strdup(fallback)))
			return rs_error_set(RS_ERROR, "out of memory");
	}
	if (has_keep && (rule->keep_last >= 0 || rule->keep_newer_than >= 0))
		return rs_error_set(RS_EUSAGE, "%s:%d: rule '%s' has both 'keep: %s' and "
				    "keep_last/keep_newer_than: use one", path, cr->line, rule->name,
				    rule->keep == RS_RULE_KEEP_ALL ? "all" : "none");
	if (!has_keep && rule->keep_last < 0 && rule->keep_newer_than < 0)
		return rs_error_set(RS_EUSAGE, "%s:%d: rule '%s' does not say what it keeps: add "
				    "keep: all, keep: none, keep_last or keep_newer_than", path,
				    cr->line, rule->name);
	if (!has_keep)
		rule->keep = RS_RULE_KEEP_SOME;
	return 0;
}

static int add_rule(struct rs_policy *policy, struct rs_rule **out)
{
	struct rs_rule *grown = realloc(policy->rules, (policy->nrules + 1) * sizeof(*grown));

	*out = NULL;
	if (!grown)
		return rs_error_set(RS_ERROR, "out of memory");
	policy->rules = grown;
	*out = &policy->rules[policy->nrules++];
	memset(*out, 0, sizeof(**out));
	(*out)->keep_last = -1;
	(*out)->keep_newer_than = -1;
	(*out)->order = policy->order;
	return 0;
}

static int rules_from_config(struct rs_policy *policy, const struct rs_config *cfg)
{
	const char *path = rs_config_path(cfg);

	for (size_t i = 0; i < rs_config_rule_count(cfg); i++) {
		const struct rs_config_rule *cr = rs_config_rule_at(cfg, i);
		struct rs_rule *rule;
		int rc = add_rule(policy, &rule);

		if (rc == 0)
			rc = rule_from_config(rule, cr, i, path);
		if (rc < 0)
			return rc;
		for (size_t j = 0; j + 1 < policy->nrules; j++)
			if (strcmp(policy->rules[j].name, rule->name) == 0)
				return rs_error_set(RS_EUSAGE, "%s:%d: two rules are named '%s'", path,
						    cr->line, rule->name);
	}
	return 0;
}

static int settings_rule_given(const struct rs_settings *s)
{
	return s->keep_last >= 0 || s->keep_newer_than >= 0 || (s->repos && *s->repos) ||
	       (s->tags && *s->tags);
}

/* The single rule the settings describe (command line, environment, or the
 * config file's top level). */
static int rule_from_settings(struct rs_policy *policy, const struct rs_config *cfg,
			      const struct rs_settings *s)
{
	static const char *const keys[] = {"repos", "tags", "keep_last", "keep_newer_than"};
	struct rs_rule *rule;
	int rc;

	for (size_t i = 0; cfg && rs_config_has_rules(cfg) && i < 4; i++) {
		const struct rs_config_field *f = rs_config_setting(cfg, keys[i]);
		int index = rs_settings_lookup(keys[i]);

		if (f && s->sources[index] == RS_SRC_FILE)
			return rs_error_set(RS_EUSAGE, "%s:%d: a top-level '%s' cannot be combined with "
					    "'rules': move it into a rule", rs_config_path(cfg),
					    f->line, keys[i]);
	}
	if (s->keep_last < 0 && s->keep_newer_than < 0)
		return rs_error_set(RS_EUSAGE, "--repos and --tags choose what the command-line "
				    "rule applies to: say what it keeps with --keep-last or "
				    "--keep-newer-than");
	rc = add_rule(policy, &rule);
	if (rc < 0)
		return rc;
	rule->keep = RS_RULE_KEEP_SOME;
	rule->keep_last = s->keep_last;
	rule->keep_newer_than = s->keep_newer_than;
	if (!(rule->name = strdup("command line")))
		return rs_error_set(RS_ERROR, "out of memory");
	rc = rs_pattern_list_parse(&rule->repos, s->repos, "--repos");
	if (rc == 0)
		rc = rs_pattern_list_parse(&rule->tags, s->tags, "--tags");
	if (rc < 0)
		return rc;
	/* an empty pattern list would claim everything: a slip, not a wish */
	if (s->repos && !rule->repos.count)
		return rs_error_set(RS_EUSAGE, "--repos is empty: leave it out to match every "
				    "repository");
	if (s->tags && !rule->tags.count)
		return rs_error_set(RS_EUSAGE, "--tags is empty: leave it out to match every tag");
	if (cfg && rs_config_rule_count(cfg))
		rs_log(RS_LOG_INFO, "the command-line rule replaces the %zu rule%s of '%s'",
		       rs_config_rule_count(cfg), rs_config_rule_count(cfg) == 1 ? "" : "s",
		       rs_config_path(cfg));
	return 0;
}

/* Push times come from the storage view alone: without one, say what to add
 * before anything is scanned. */
static int check_push_times(const struct rs_policy *policy, const struct rs_settings *s)
{
	int rule = rs_policy_needs_push_times(policy);

	if (rule < 0 || (s->ssh && *s->ssh) || (s->storage_root && *s->storage_root) ||
	    (s->registry_config && *s->registry_config))
		return 0;
	return rs_error_set(RS_EUSAGE, "rule '%s' orders by push time (order: pushed), which only "
			    "the registry's storage knows: add --storage-root DIR (the storage on "
			    "this machine), or --ssh HOST with --storage-root DIR or "
			    "--registry-config FILE (on the registry host)",
			    policy->rules[rule].name);
}

static int read_in_use(struct rs_policy *policy, const struct rs_settings *s)
{
	int from_stdin = 0, rc;

	if (!s->in_use.count)
		return 0;
	for (size_t i = 0; i < s->in_use.count; i++) {
		if (strcmp(s->in_use.items[i], "-") != 0)
			continue;
		if (from_stdin++)
			return rs_error_set(RS_EUSAGE, "--in-use: standard input ('-') can be read once");
		if (s->password_stdin)
			return rs_error_set(RS_EUSAGE, "--in-use - and --password-stdin both read "
					    "standard input: give the password another way");
	}
	rc = rs_inuse_new(&policy->in_use);
	for (size_t i = 0; rc == 0 && i < s->in_use.count; i++)
		rc = rs_inuse_read(policy->in_use, s->in_use.items[i]);
	return rc;
}

int rs_policy_build(struct rs_policy **out, const struct rs_config *cfg,
		    const struct rs_settings *s)
{
	struct rs_policy *policy;
	struct rs_buf source = RS_BUF_INIT;
	int rc;

	*out = NULL;
	policy = calloc(1, sizeof(*policy));
	if (!policy)
		return rs_error_set(RS_ERROR, "out of memory");
	policy->untagged_delete = !s->untagged || strcmp(s->untagged, "keep") != 0;
	policy->untagged_grace = s->untagged_grace >= 0 ? s->untagged_grace : 24 * 3600;
	if (s->order && parse_order(&policy->order, s->order) < 0) {
		rc = rs_error_set(RS_EUSAGE, "invalid value '%s' for 'order' (use created, pushed or "
				  "version)", s->order);
		goto fail;
	}
	policy->untag = s->untag;
	rc = rs_pattern_list_parse(&policy->keep_tags, s->keep_tags, "--keep-tags");
	if (rc < 0)
		goto fail;
	if (settings_rule_given(s)) {
		rc = rule_from_settings(policy, cfg, s);
		if (rc == 0)
			rc = rs_buf_puts(&source, "command line");
	} else if (cfg && rs_config_rule_count(cfg)) {
		rc = rules_from_config(policy, cfg);
		if (rc == 0)
			rc = rs_buf_printf(&source, "config file '%s'", rs_config_path(cfg));
	} else {
		rc = rs_buf_puts(&source, "none");
	}
	if (rc == 0)
		rc = check_push_times(policy, s);
	if (rc == 0)
		rc = read_in_use(policy, s);
	if (rc < 0)
		goto fail;
	policy->source = rs_buf_detach(&source);
	if (!policy->source) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto fail;
	}
	*out = policy;
	return 0;
fail:
	rs_buf_release(&source);
	rs_policy_free(policy);
	return rc;
}

int rs_policy_needs_dates(const struct rs_policy *policy)
{
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct rs_rule *rule = &policy->rules[i];

		if (rule->keep == RS_RULE_KEEP_SOME &&
		    (rule->order == RS_ORDER_CREATED ||
		     (rule->order == RS_ORDER_VERSION && rule->keep_newer_than >= 0)))
			return 1;
	}
	return 0;
}

int rs_policy_needs_push_times(const struct rs_policy *policy)
{
	for (size_t i = 0; i < policy->nrules; i++)
		if (policy->rules[i].keep == RS_RULE_KEEP_SOME &&
		    policy->rules[i].order == RS_ORDER_PUSHED)
			return (int)i;
	return -1;
}

int rs_policy_claim(const struct rs_policy *policy, const char *repo, const char *tag)
{
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct rs_rule *rule = &policy->rules[i];

		if (rs_pattern_list_match(&rule->repos, repo, NULL) &&
		    rs_pattern_list_match(&rule->tags, tag, NULL))
			return (int)i;
	}
	return -1;
}

int rs_policy_always_keeps(const struct rs_policy *policy, int rule, const char *tag,
			   const char **pattern)
{
	if (pattern)
		*pattern = NULL;
	if (policy->keep_tags.count && rs_pattern_list_match(&policy->keep_tags, tag, pattern))
		return 1;
	if (rule >= 0 && (size_t)rule < policy->nrules && policy->rules[rule].keep_tags.count &&
	    rs_pattern_list_match(&policy->rules[rule].keep_tags, tag, pattern))
		return 1;
	return 0;
}

int rs_cosign_tag(const char *tag, char *subject, size_t subject_size, const char **kind)
{
	static const struct {
		const char *suffix;
		const char *kind;
	} suffixes[] = {{".sig", "signature"}, {".att", "attestation"}, {".sbom", "SBOM"}};
	const char *hex = tag + 7;

	if (strncmp(tag, "sha256-", 7) != 0)
		return 0;
	for (size_t i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)hex[i]) || isupper((unsigned char)hex[i]))
			return 0;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (strcmp(hex + 64, suffixes[i].suffix) != 0)
			continue;
		if (subject && subject_size >= 72)
			snprintf(subject, subject_size, "sha256:%.64s", hex);
		if (kind)
			*kind = suffixes[i].kind;
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- summary */

char *rs_policy_duration(char *out, size_t outsize, int64_t seconds)
{
	if (seconds >= 3 * 86400 && seconds % 86400 == 0)
		snprintf(out, outsize, "%lldd", (long long)(seconds / 86400));
	else if (seconds >= 3600 && seconds % 3600 == 0)
		snprintf(out, outsize, "%lldh", (long long)(seconds / 3600));
	else
		rs_duration_format(out, outsize, seconds);
	return out;
}

static int describe_patterns(struct rs_buf *out, const char *label,
			     const struct rs_pattern_list *list)
{
	int rc = rs_buf_printf(out, "%s ", label);

	for (size_t i = 0; rc == 0 && i < list->count; i++)
		rc = rs_buf_printf(out, "%s%s", i ? "," : "", list->items[i].text);
	return rc;
}

static int describe_rule(struct rs_buf *out, const struct rs_rule *rule)
{
	char d[64];
	int rc = rs_buf_printf(out, "rule '%s' (", rule->name);

	if (rc == 0)
		rc = rule->repos.count ? describe_patterns(out, "repos", &rule->repos)
				       : rs_buf_puts(out, "all repos");
	if (rc == 0)
		rc = rs_buf_puts(out, ", ");
	if (rc == 0)
		rc = rule->tags.count ? describe_patterns(out, "tags", &rule->tags)
				      : rs_buf_puts(out, "all tags");
	if (rc == 0)
		rc = rs_buf_puts(out, "): ");
	if (rc == 0 && rule->keep == RS_RULE_KEEP_ALL)
		rc = rs_buf_puts(out, "keep all");
	else if (rc == 0 && rule->keep == RS_RULE_KEEP_NONE)
		rc = rs_buf_puts(out, "keep none");
	if (rc == 0 && rule->keep_last >= 0)
		rc = rs_buf_printf(out, "keep_last %d", rule->keep_last);
	if (rc == 0 && rule->keep_newer_than >= 0)
		rc = rs_buf_printf(out, "%skeep_newer_than %s", rule->keep_last >= 0 ? ", " : "",
				   rs_policy_duration(d, sizeof(d), rule->keep_newer_than));
	if (rc == 0 && rule->keep == RS_RULE_KEEP_SOME && rule->order != RS_ORDER_CREATED)
		rc = rs_buf_printf(out, ", order %s", rs_order_name(rule->order));
	if (rc == 0 && rule->keep_tags.count) {
		rc = rs_buf_puts(out, ", ");
		if (rc == 0)
			rc = describe_patterns(out, "keep_tags", &rule->keep_tags);
	}
	return rc;
}

int rs_policy_describe(struct rs_buf *out, const struct rs_policy *policy)
{
	char grace[64];
	int rc = 0;

	if (!policy->nrules)
		rc = rs_buf_puts(out, "no rules (every tag kept)");
	for (size_t i = 0; rc == 0 && i < policy->nrules; i++) {
		rc = i ? rs_buf_puts(out, "; ") : 0;
		if (rc == 0)
			rc = describe_rule(out, &policy->rules[i]);
	}
	if (rc == 0 && policy->keep_tags.count) {
		rc = rs_buf_puts(out, "; ");
		if (rc == 0)
			rc = describe_patterns(out, "keep_tags", &policy->keep_tags);
	}
	if (rc == 0 && policy->in_use)
		rc = rs_buf_printf(out, "; images in use kept (%zu reference%s read)",
				   policy->in_use->nrefs, policy->in_use->nrefs == 1 ? "" : "s");
	if (rc == 0 && policy->untagged_delete)
		rc = rs_buf_printf(out, "; untagged: delete after %s",
				   rs_policy_duration(grace, sizeof(grace), policy->untagged_grace));
	else if (rc == 0)
		rc = rs_buf_puts(out, "; untagged: keep");
	return rc;
}
