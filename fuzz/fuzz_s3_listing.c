/* fuzz_s3_listing.c: what an S3 store answers to a listing of the
 * registry's bucket (rs_s3_listing_parse), and to a request it refuses
 * (rs_s3_error_parse): XML from a server regsweep does not control. */
#include "fuzz.h"

#include "base/util.h"
#include "storage/s3list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_s3_listing l;
	struct rs_s3_error e;
	char *xml = fuzz_bytes(data, size);

	memset(&l, 0x5a, sizeof(l));
	if (rs_s3_listing_parse(&l, xml, size) == 0) {
		for (size_t i = 0; i < l.nobjects; i++) {
			FUZZ_ASSERT(l.objects[i].key && l.objects[i].key_len > 0);
			FUZZ_ASSERT(l.objects[i].key[l.objects[i].key_len] == '\0');
			FUZZ_ASSERT(l.objects[i].size >= -1);
			FUZZ_ASSERT(l.objects[i].mtime == RS_TIME_UNKNOWN || l.objects[i].mtime > INT64_MIN);
		}
		for (size_t i = 0; i < l.nprefixes; i++)
			FUZZ_ASSERT(l.prefixes[i].prefix && l.prefixes[i].len > 0 &&
				    l.prefixes[i].prefix[l.prefixes[i].len] == '\0');
		FUZZ_ASSERT(!l.truncated || (l.next_token && *l.next_token));
	} else {
		FUZZ_ASSERT(l.nobjects == 0 && l.nprefixes == 0 && !l.objects && !l.prefixes &&
			    !l.next_token);
	}
	rs_s3_listing_release(&l);
	rs_s3_error_parse(&e, xml, size);
	FUZZ_ASSERT(strlen(e.code) < sizeof(e.code) && strlen(e.message) < sizeof(e.message));
	for (const char *p = e.message; *p; p++)
		FUZZ_ASSERT(*p >= 0x20 && *p < 0x7f);
	free(xml);
	return 0;
}
