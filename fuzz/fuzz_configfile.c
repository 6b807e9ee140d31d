/* fuzz_configfile.c: regsweep's YAML config file: parsed
 * (rs_config_parse), applied to the settings (rs_config_apply_settings) and
 * turned into a policy (rs_policy_build), which then judges a few tags. */
#include "fuzz.h"

#include "base/buf.h"
#include "config/configfile.h"
#include "base/error.h"
#include "base/log.h"
#include "policy/policy.h"
#include "config/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_config *cfg = (struct rs_config *)1;
	struct rs_settings settings;
	struct rs_policy *policy = NULL;
	char *text = fuzz_bytes(data, size);
	int rc = rs_config_parse(&cfg, "fuzz.yml", text, size);

	if (rc < 0) {
		FUZZ_ASSERT(cfg == NULL);
		FUZZ_ASSERT(rs_error_message()[0] != '\0');
		free(text);
		return 0;
	}
	FUZZ_ASSERT(cfg != NULL);
	for (size_t i = 0; i < rs_config_rule_count(cfg); i++)
		FUZZ_ASSERT(rs_config_rule_at(cfg, i) != NULL);
	if (rs_settings_init(&settings) == 0) {
		if (rs_config_apply_settings(cfg, &settings) == 0 &&
		    rs_policy_build(&policy, cfg, &settings) == 0) {
			struct rs_buf desc = RS_BUF_INIT;
			static const char *const tags[] = {"latest", "v1.2.3", "sha256-abc.sig", "x"};

			FUZZ_ASSERT(rs_policy_describe(&desc, policy) == 0);
			rs_buf_release(&desc);
			for (size_t t = 0; t < 4; t++) {
				int rule = rs_policy_claim(policy, "team/app", tags[t]);

				(void)rs_policy_always_keeps(policy, rule, tags[t], NULL);
			}
			(void)rs_policy_needs_dates(policy);
			rs_policy_free(policy);
		}
		rs_settings_release(&settings);
	}
	rs_config_free(cfg);
	rs_secret_clear();
	free(text);
	return 0;
}
