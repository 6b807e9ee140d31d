/* referrers.h: asking the registry's OCI referrers API which manifests name
 * a manifest as their `subject`, so that referrers pushed by digest only
 * (which no tag list shows) are decided together with their subject.
 *
 * Registries without the API (distribution 2.x answers 404) are detected
 * with one probe and left alone: the planner then knows the referrers the
 * scan and the storage view found.
 */
#ifndef RS_REFERRERS_H
#define RS_REFERRERS_H

#include "model/inventory.h"
#include "net/registry.h"
#include "scan/scan.h"

/* For every manifest of `inv`, list its referrers (GET
 * /v2/NAME/referrers/DIGEST, following Link) and add those the inventory
 * lacks through rs_scan_add_stored() (read by digest, verified; their
 * storage time unknown), then do the same for what was added, a few rounds
 * deep. *supported (may be NULL) says whether the registry answered the
 * API. A failed lookup only means fewer referrers known, never a delete:
 * it is logged, not returned. Returns 0, RS_EPARTIAL when a referrer could
 * not be read (its repository is then marked failed), RS_ECANCELLED, or an
 * error that stops everything. */
int rs_referrers_discover(struct rs_inventory *inv, struct rs_registry *reg,
			  const struct rs_scan_options *opts, int *supported);

#endif
