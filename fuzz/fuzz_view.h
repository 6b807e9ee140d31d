/* fuzz_view.h: the promises of a storage view, checked by the storage
 * targets (fuzz_storage, fuzz_storage_find). */
#ifndef RS_FUZZ_VIEW_H
#define RS_FUZZ_VIEW_H

#include "fuzz.h"
#include "model/manifest.h"
#include "storage/storage.h"

/* What every storage view promises, whatever the storage held: valid names
 * and digests, records that point at the view's own repositories, sorted
 * repositories, sums that never went negative, and a message whenever
 * something was left incomplete. */
static inline void fuzz_check_view(const struct rs_storage_view *view)
{
	int any_incomplete = 0;

	for (size_t r = 0; r < view->nrepos; r++) {
		FUZZ_ASSERT(rs_valid_repo_name(view->repos[r].name));
		FUZZ_ASSERT(r == 0 || strcmp(view->repos[r - 1].name, view->repos[r].name) < 0);
		any_incomplete |= view->repos[r].incomplete != 0;
	}
	FUZZ_ASSERT(!any_incomplete || view->problem);
	for (size_t i = 0; i < view->nmanifests; i++) {
		const struct rs_stored_repo *r = rs_storage_view_repo(view, view->manifests[i].repo);

		FUZZ_ASSERT(rs_digest_valid(view->manifests[i].digest));
		FUZZ_ASSERT(r && r->name == view->manifests[i].repo);
	}
	for (size_t i = 0; i < view->ntags; i++) {
		const struct rs_stored_repo *r = rs_storage_view_repo(view, view->tags[i].repo);

		FUZZ_ASSERT(r && r->name == view->tags[i].repo);
		FUZZ_ASSERT(rs_valid_tag(view->tags[i].tag));
		/* a tag whose digest is unknown leaves its repository incomplete */
		FUZZ_ASSERT(view->tags[i].digest[0] ? rs_digest_valid(view->tags[i].digest)
			    : r->incomplete);
	}
	FUZZ_ASSERT(view->blobs >= -1 && view->bytes >= -1);
}

#endif
