/* fuzz_regconfig.c: the registry's own config.yml, read from its host over
 * SSH (rs_regconfig_parse): where the storage is, whether deletes are on. */
#include "fuzz.h"

#include "storage/regconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_regconfig cfg;
	char *text = fuzz_bytes(data, size);

	memset(&cfg, 0x5a, sizeof(cfg));
	if (rs_regconfig_parse(&cfg, text, size, "config.yml") == 0) {
		FUZZ_ASSERT(cfg.driver && *cfg.driver);
		FUZZ_ASSERT(!cfg.root || strcmp(cfg.driver, "filesystem") == 0);
		FUZZ_ASSERT(cfg.delete_enabled == 0 || cfg.delete_enabled == 1);
		rs_regconfig_release(&cfg);
	}
	free(text);
	return 0;
}
