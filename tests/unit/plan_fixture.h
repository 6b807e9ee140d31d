/* plan_fixture.h: small builders for inventories, policies and plans in the
 * planner's unit tests (no network: everything is made in memory). */
#ifndef RS_PLAN_FIXTURE_H
#define RS_PLAN_FIXTURE_H

#include "config/configfile.h"
#include "base/digest.h"
#include "base/error.h"
#include "model/inventory.h"
#include "policy/plan.h"
#include "policy/policy.h"
#include "config/settings.h"
#include "base/util.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FX_NOW ((int64_t)1700000000)
#define FX_DAY ((int64_t)86400)

/* A digest derived from a name, so tests can say "img-a". */
static inline const char *fx_digest(const char *seed)
{
	static char ring[16][RS_DIGEST_MAX];
	static unsigned next;
	char *out = ring[next++ % 16];

	rs_digest_sha256(out, seed, strlen(seed));
	return out;
}

static inline struct rs_inventory *fx_inventory(void)
{
	struct rs_inventory *inv = NULL;

	cr_assert_eq(rs_inventory_new(&inv, "http://127.0.0.1:5000"), 0);
	return inv;
}

static inline struct rs_repo *fx_repo(struct rs_inventory *inv, const char *name)
{
	struct rs_repo *repo = NULL;

	cr_assert_eq(rs_inventory_add_repo(&repo, inv, name), 0);
	return repo;
}

static inline void fx_descriptor(struct rs_descriptor *d, const char *seed, int64_t size)
{
	memset(d, 0, sizeof(*d));
	rs_strlcpy(d->digest, fx_digest(seed), sizeof(d->digest));
	d->size = size;
}

/* An image manifest `seed` created `created` (RS_TIME_UNKNOWN allowed),
 * with a config and one layer named after it. */
static inline struct rs_manifest *fx_image(struct rs_repo *repo, const char *seed, int64_t created)
{
	struct rs_manifest *m = NULL;
	char blob[256];

	cr_assert_eq(rs_manifest_new(&m, fx_digest(seed)), 0);
	m->type = RS_MT_OCI_MANIFEST;
	m->media_type = strdup(RS_MT_STR_OCI_MANIFEST);
	m->size = 500;
	snprintf(blob, sizeof(blob), "%s-config", seed);
	fx_descriptor(&m->config, blob, 100);
	m->layers = calloc(1, sizeof(*m->layers));
	m->nlayers = 1;
	snprintf(blob, sizeof(blob), "%s-layer", seed);
	fx_descriptor(&m->layers[0], blob, 1000);
	m->created = created;
	m->flags = RS_MF_FETCHED;
	cr_assert_eq(rs_repo_add_manifest(repo, m), 0);
	return m;
}

/* An image sharing the layer `layer` (for cross-repository blob tests). */
static inline struct rs_manifest *fx_image_layer(struct rs_repo *repo, const char *seed,
						 const char *layer, int64_t created)
{
	struct rs_manifest *m = fx_image(repo, seed, created);

	fx_descriptor(&m->layers[0], layer, 1000);
	return m;
}

/* An index `seed` over the NULL-terminated list of child seeds. */
static inline struct rs_manifest *fx_index(struct rs_repo *repo, const char *seed, ...)
{
	struct rs_manifest *m = NULL;
	const char *child;
	va_list ap;

	cr_assert_eq(rs_manifest_new(&m, fx_digest(seed)), 0);
	m->type = RS_MT_OCI_INDEX;
	m->media_type = strdup(RS_MT_STR_OCI_INDEX);
	m->size = 300;
	m->flags = RS_MF_FETCHED;
	m->children = calloc(8, sizeof(*m->children));
	va_start(ap, seed);
	while ((child = va_arg(ap, const char *)) && m->nchildren < 8)
		fx_descriptor(&m->children[m->nchildren++], child, 500);
	va_end(ap);
	cr_assert_eq(rs_repo_add_manifest(repo, m), 0);
	return m;
}

static inline void fx_tag(struct rs_repo *repo, const char *tag, const struct rs_manifest *m)
{
	cr_assert_eq(rs_repo_add_tag(NULL, repo, tag, m ? m->digest : ""), 0);
}

/* Tag `tag` was last pushed at `when`, as the storage view says. */
static inline void fx_pushed(struct rs_repo *repo, const char *tag, int64_t when)
{
	struct rs_tag *t = rs_repo_find_tag(repo, tag);

	cr_assert_not_null(t, "no tag '%s'", tag);
	t->pushed_at = when;
}

/* The cosign tag name for `m` with `suffix` (".sig"). */
static inline const char *fx_cosign(const struct rs_manifest *m, const char *suffix)
{
	static char out[128];

	snprintf(out, sizeof(out), "sha256-%s%s", m->digest + 7, suffix);
	return out;
}

/* Untagged history as the storage view lists it. */
static inline void fx_stored(struct rs_manifest *m, int64_t stored_at)
{
	m->flags |= RS_MF_FROM_STORAGE;
	m->stored_at = stored_at;
}

/* A policy from YAML (may be NULL) and settings "name=value" pairs
 * (NULL-terminated). */
static inline struct rs_policy *fx_policy(const char *yaml, ...)
{
	struct rs_settings s;
	struct rs_config *cfg = NULL;
	struct rs_policy *p = NULL;
	const char *pair;
	va_list ap;
	int rc;

	cr_assert_eq(rs_settings_init(&s), 0);
	if (yaml) {
		rc = rs_config_parse(&cfg, "test.yml", yaml, strlen(yaml));
		cr_assert_eq(rc, 0, "config: %s", rs_error_message());
		cr_assert_eq(rs_config_apply_settings(cfg, &s), 0, "%s", rs_error_message());
	}
	va_start(ap, yaml);
	while ((pair = va_arg(ap, const char *))) {
		char name[64];
		const char *eq = strchr(pair, '=');

		cr_assert(eq);
		snprintf(name, sizeof(name), "%.*s", (int)(eq - pair), pair);
		cr_assert_eq(rs_settings_set(&s, rs_settings_lookup(name), eq + 1, RS_SRC_CLI), 0,
			     "%s", rs_error_message());
	}
	va_end(ap);
	rc = rs_policy_build(&p, cfg, &s);
	cr_assert_eq(rc, 0, "policy: %s", rs_error_message());
	rs_config_free(cfg);
	rs_settings_release(&s);
	return p;
}

/* Give `policy` the in-use list `text` (read as the file "pods.txt"). */
static inline void fx_in_use(struct rs_policy *policy, const char *text)
{
	if (!policy->in_use)
		cr_assert_eq(rs_inuse_new(&policy->in_use), 0);
	cr_assert_eq(rs_inuse_parse(policy->in_use, text, strlen(text), "pods.txt"), 0, "%s",
		     rs_error_message());
}

static inline struct rs_plan *fx_plan(struct rs_inventory *inv, struct rs_policy *policy)
{
	struct rs_plan *plan = NULL;

	rs_inventory_sort(inv);
	cr_assert_eq(rs_plan_build(&plan, inv, policy, FX_NOW), 0, "%s", rs_error_message());
	return plan;
}

static inline const struct rs_plan_repo *fx_plan_repo(const struct rs_plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->nrepos; i++)
		if (strcmp(plan->repos[i].name, name) == 0)
			return &plan->repos[i];
	cr_assert_fail("no repository '%s' in the plan", name);
	return NULL;
}

static inline const struct rs_plan_tag *fx_plan_tag(const struct rs_plan *plan, const char *repo,
						    const char *tag)
{
	const struct rs_plan_repo *r = fx_plan_repo(plan, repo);

	for (size_t i = 0; i < r->ntags; i++)
		if (strcmp(r->tags[i].name, tag) == 0)
			return &r->tags[i];
	cr_assert_fail("no tag '%s' in '%s'", tag, repo);
	return NULL;
}

/* The decision on manifest `m` in `repo`: its entry, *deleted set, and
 * *position its index in the deletion order. */
static inline const struct rs_plan_manifest *fx_plan_manifest(const struct rs_plan *plan,
							      const char *repo,
							      const struct rs_manifest *m,
							      size_t *position)
{
	const struct rs_plan_repo *r = fx_plan_repo(plan, repo);

	for (size_t i = 0; i < r->ndeletions; i++)
		if (strcmp(r->deletions[i].digest, m->digest) == 0) {
			if (position)
				*position = i;
			return &r->deletions[i];
		}
	for (size_t i = 0; i < r->nkept; i++)
		if (strcmp(r->kept[i].digest, m->digest) == 0)
			return &r->kept[i];
	cr_assert_fail("manifest %s not in the plan of '%s'", m->digest, repo);
	return NULL;
}

#define fx_assert_kept(plan, repo, m, want_reason) do { \
		const struct rs_plan_manifest *fx_pm_ = fx_plan_manifest(plan, repo, m, NULL); \
		cr_assert_eq(fx_pm_->verdict, RS_VERDICT_KEEP, "%s should be kept: %s", #m, \
			     fx_pm_->reason); \
		if (want_reason) \
			cr_assert_str_eq(fx_pm_->reason, (const char *)(want_reason)); \
	} while (0)

#define fx_assert_deleted(plan, repo, m, want_reason) do { \
		const struct rs_plan_manifest *fx_pm_ = fx_plan_manifest(plan, repo, m, NULL); \
		cr_assert_eq(fx_pm_->verdict, RS_VERDICT_DELETE, "%s should be deleted: %s", #m, \
			     fx_pm_->reason); \
		if (want_reason) \
			cr_assert_str_eq(fx_pm_->reason, (const char *)(want_reason)); \
	} while (0)

#define fx_assert_tag(plan, repo, tag, want_verdict, want_reason) do { \
		const struct rs_plan_tag *fx_pt_ = fx_plan_tag(plan, repo, tag); \
		cr_assert_eq(fx_pt_->verdict, want_verdict, "tag %s: %s", tag, fx_pt_->reason); \
		if (want_reason) \
			cr_assert_str_eq(fx_pt_->reason, (const char *)(want_reason)); \
	} while (0)

#endif
