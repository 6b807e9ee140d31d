/* test_s3.c: the S3 backend's parts without a store: the listing parser on
 * answers recorded from Swift's s3api (and hostile ones), the canonical
 * URLs request signing needs, the SigV4 request's headers (seen by a
 * scripted server), the layout's key prefix, and the credentials' sources
 * in their order. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "mock_http.h"
#include "net/http.h"
#include "storage/s3.h"
#include "storage/s3cred.h"
#include "storage/s3list.h"

static int parse(struct rs_s3_listing *l, const char *xml)
{
	return rs_s3_listing_parse(l, xml, strlen(xml));
}

/* ------------------------------------------------------------ listings */

/* Recorded from Swift 2.30's s3api: a repository's _manifests/ listed with
 * the delimiter "/index/", three keys a page. */
static const char recorded_page[] =
	"<?xml version='1.0' encoding='UTF-8'?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>registry</Name>"
	"<Prefix>lab/docker/registry/v2/repositories/noise/_manifests/</Prefix>"
	"<NextContinuationToken>bGFiL2RvY2tlci9yZWdpc3RyeS92Mi9yZXBvc2l0b3JpZXMvbm9pc2UvX21hbmlmZXN0"
	"cy9yZXZpc2lvbnMvc2hhMjU2L2VhNGVkODNiOWUzOTNkMGMxMDlhZDk1YmMzYmRkNzdmMGM1ZDNiNmMxNzRiMGI2ZDQ5"
	"MjBkZWZkM2EzMGVkNjEvbGluaw==</NextContinuationToken><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>"
	"<Delimiter>/index/</Delimiter><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
	"<Contents><Key>lab/docker/registry/v2/repositories/noise/_manifests/revisions/sha256/5211a2103"
	"d62d14023a15c6d17997e21e76041402d25abfed3990a40d5d56d36/link</Key><LastModified>2026-12-03T11"
	":34:46.000Z</LastModified><ETag>\"1888528ab350328187af44e8e24fdaee\"</ETag><Size>71</Size>"
	"<StorageClass>STANDARD</StorageClass></Contents><Contents><Key>lab/docker/registry/v2/reposi"
	"tories/noise/_manifests/revisions/sha256/aca34cfae9f265e1e9b1900172bbd102cdb6cfcda964087323fc"
	"18d8c4ba319b/link</Key><LastModified>2026-12-03T11:34:47.000Z</LastModified><ETag>\"0a99427d9"
	"aae7162a475f5f441e69a1d\"</ETag><Size>71</Size><StorageClass>STANDARD</StorageClass></Content"
	"s><Contents><Key>lab/docker/registry/v2/repositories/noise/_manifests/revisions/sha256/ea4ed8"
	"3b9e393d0c109ad95bc3bdd77f0c5d3b6c174b0b6d4920defd3a30ed61/link</Key><LastModified>2026-12-03"
	"T11:34:44.000Z</LastModified><ETag>\"ab4fe88b891d4657ede18cc40f1e7a3b\"</ETag><Size>71</Size>"
	"<StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>";

/* Recorded: the repositories found with the delimiter "/_". */
static const char recorded_prefixes[] =
	"<?xml version='1.0' encoding='UTF-8'?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>registry</Name>"
	"<Prefix>lab/docker/registry/v2/repositories/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000"
	"</MaxKeys><Delimiter>/_</Delimiter><EncodingType>url</EncodingType><IsTruncated>false"
	"</IsTruncated><CommonPrefixes><Prefix>lab/docker/registry/v2/repositories/bad/_</Prefix>"
	"</CommonPrefixes><CommonPrefixes><Prefix>lab/docker/registry/v2/repositories/noise/_</Prefix>"
	"</CommonPrefixes><CommonPrefixes><Prefix>lab/docker/registry/v2/repositories/team/app/_"
	"</Prefix></CommonPrefixes></ListBucketResult>";

/* Recorded: a wrong secret key (the answer quotes the request back). */
static const char recorded_signature_error[] =
	"<?xml version='1.0' encoding='UTF-8'?>\n"
	"<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does "
	"not match the signature you provided. Check your key and signing method.</Message>"
	"<RequestId>tx8d72db0cf599462897eb9-006b1157b9</RequestId><AWSAccessKeyId>lab:registry"
	"</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n20261203T115121Z\n20261203/us-east-1/s3/"
	"aws4_request\nb6c7</StringToSign><CanonicalRequest>GET\n/registry\nlist-type=2\nhost:127.0.0"
	".1:23480\nx-amz-security-token:QUOTED-TOKEN\n</CanonicalRequest></Error>";

Test(s3list, a_recorded_page)
{
	struct rs_s3_listing l;
	int64_t when;

	cr_assert_eq(parse(&l, recorded_page), 0, "%s", rs_error_message());
	cr_assert_eq(l.nobjects, 3);
	cr_assert_eq(l.nprefixes, 0);
	cr_assert_str_eq(l.objects[0].key, "lab/docker/registry/v2/repositories/noise/_manifests/"
			 "revisions/sha256/5211a2103d62d14023a15c6d17997e21e76041402d25abfed3990a40d5"
			 "d56d36/link");
	cr_assert_eq(l.objects[0].key_len, strlen(l.objects[0].key));
	cr_assert_eq(l.objects[0].size, 71);
	cr_assert_eq(rs_time_parse(&when, "2026-12-03T11:34:46Z"), 0);
	cr_assert_eq(l.objects[0].mtime, when, "LastModified in seconds, its fraction dropped");
	cr_assert_str_eq(l.objects[0].etag, "1888528ab350328187af44e8e24fdaee", "the ETag, unquoted");
	cr_assert(l.truncated);
	cr_assert_not_null(l.next_token);
	cr_assert(strstr(l.next_token, "==") != NULL, "the token is kept as given");
	rs_s3_listing_release(&l);
	cr_assert_null(l.objects);
}

Test(s3list, recorded_common_prefixes)
{
	struct rs_s3_listing l;

	cr_assert_eq(parse(&l, recorded_prefixes), 0);
	cr_assert_eq(l.nobjects, 0);
	cr_assert_eq(l.nprefixes, 3);
	cr_assert_str_eq(l.prefixes[2].prefix, "lab/docker/registry/v2/repositories/team/app/_");
	cr_assert(!l.truncated);
	cr_assert_null(l.next_token);
	rs_s3_listing_release(&l);
}

#define LIST_HEAD "<?xml version=\"1.0\"?><ListBucketResult>"

Test(s3list, url_encoded_keys_are_decoded)
{
	struct rs_s3_listing l;

	cr_assert_eq(parse(&l, LIST_HEAD "<EncodingType>url</EncodingType>"
			   "<Contents><Key>t/v%202%0Ax/current/link</Key><Size>3</Size></Contents>"
			   "<Contents><Key>a+b%2Bc</Key></Contents>"
			   "<Contents><Key>nul%00here</Key></Contents>"
			   "<CommonPrefixes><Prefix>p%2Fq/</Prefix></CommonPrefixes>"
			   "</ListBucketResult>"), 0, "%s", rs_error_message());
	cr_assert_str_eq(l.objects[0].key, "t/v 2\nx/current/link");
	cr_assert_str_eq(l.objects[1].key, "a b+c", "'+' is a space, as the AWS SDKs read it");
	cr_assert_eq(l.objects[1].size, -1, "no Size: unknown");
	cr_assert_eq(l.objects[1].mtime, RS_TIME_UNKNOWN);
	cr_assert_eq(l.objects[2].key_len, 8, "a NUL is kept, with the length");
	cr_assert_eq(memcmp(l.objects[2].key, "nul\0here", 8), 0);
	cr_assert_str_eq(l.prefixes[0].prefix, "p/q/");
	rs_s3_listing_release(&l);

	/* a store that ignored encoding-type: keys as they are */
	cr_assert_eq(parse(&l, LIST_HEAD "<Contents><Key>a%0A+b</Key><Size>18446744073709551616</Size>"
			   "<LastModified>yesterday</LastModified></Contents></ListBucketResult>"), 0);
	cr_assert_str_eq(l.objects[0].key, "a%0A+b");
	cr_assert_str_eq(l.objects[0].etag, "", "no ETag");
	cr_assert_eq(l.objects[0].size, -1, "a size past int64 is not a size");
	cr_assert_eq(l.objects[0].mtime, RS_TIME_UNKNOWN);
	rs_s3_listing_release(&l);
}

Test(s3list, what_is_not_a_listing_is_refused)
{
	static const char *const bad[] = {
		"",
		"not xml at all",
		"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>",
		LIST_HEAD "<IsTruncated>true</IsTruncated></ListBucketResult>",
		LIST_HEAD "<EncodingType>url</EncodingType><Contents><Key>bad%zz</Key></Contents>"
		"</ListBucketResult>",
		LIST_HEAD "<Contents><Key></Key></Contents></ListBucketResult>",
		LIST_HEAD "<Contents><Size>1</Size></Contents></ListBucketResult>",
		LIST_HEAD "<Contents><Key>unclosed</Contents>",
		/* entities of a DTD are never expanded: a DTD is refused */
		"<?xml version=\"1.0\"?><!DOCTYPE ListBucketResult [<!ENTITY a \"aaaaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
		"<ListBucketResult><Contents><Key>&c;</Key></Contents></ListBucketResult>",
		"<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"http://127.0.0.1:1/evil.dtd\">"
		"<ListBucketResult/>",
		NULL
	};

	for (size_t i = 0; bad[i]; i++) {
		struct rs_s3_listing l;

		cr_assert_eq(parse(&l, bad[i]), RS_EPROTO, "case %zu", i);
		cr_assert_null(l.objects, "case %zu", i);
		cr_assert_null(l.prefixes, "case %zu", i);
		rs_s3_listing_release(&l);
	}
}

Test(s3list, an_error_gives_its_code_and_message_only)
{
	struct rs_s3_error e;

	rs_s3_error_parse(&e, recorded_signature_error, strlen(recorded_signature_error));
	cr_assert_str_eq(e.code, "SignatureDoesNotMatch");
	cr_assert(strncmp(e.message, "The request signature we calculated", 35) == 0);
	cr_assert_null(strstr(e.message, "QUOTED-TOKEN"));
	rs_s3_error_parse(&e, recorded_page, strlen(recorded_page));
	cr_assert_str_eq(e.code, "");
	rs_s3_error_parse(&e, NULL, 0);
	cr_assert_str_eq(e.message, "");
	{
		const char *odd = "<Error><Code>A&#x7f;\xc3\xa9</Code></Error>";

		rs_s3_error_parse(&e, odd, strlen(odd));
	}
	cr_assert_str_eq(e.code, "A???", "printable ASCII only");
}

/* ------------------------------------------------------------------ URLs */

static char *url(const char *base, const char *prefix, const char *path,
		 const struct rs_http_param *params, size_t n)
{
	char *out = NULL;

	cr_assert_eq(rs_http_url_build(&out, base, prefix, path, params, n), 0, "%s",
		     rs_error_message());
	return out;
}

Test(s3url, query_sorted_and_encoded_as_signing_wants)
{
	const struct rs_http_param p[] = {
		{"prefix", "lab/docker/registry/v2/repositories/"}, {"list-type", "2"},
		{"delimiter", "/_"}, {"continuation-token", "bGFi+L2Rv=="}, {"encoding-type", "url"},
		{"start-after", "a b~c"},
	};
	char *u = url("http://127.0.0.1:8480", NULL, "/registry", p, 6);

	cr_assert_str_eq(u, "http://127.0.0.1:8480/registry?continuation-token=bGFi%2BL2Rv%3D%3D"
			 "&delimiter=%2F_&encoding-type=url&list-type=2"
			 "&prefix=lab%2Fdocker%2Fregistry%2Fv2%2Frepositories%2F&start-after=a%20b~c",
			 "upper-case hex, kept so: libcurl 7.88 signs the query as given");
	free(u);
}

Test(s3url, paths_hosts_and_bases)
{
	char *u;

	u = url("http://h:1", NULL, "/bkt/a b/c+d/%/é", NULL, 0);
	cr_assert_str_eq(u, "http://h:1/bkt/a%20b/c%2Bd/%25/%C3%A9");
	free(u);
	u = url("https://s3.eu-west-1.amazonaws.com", "bkt.", "/key", NULL, 0);
	cr_assert_str_eq(u, "https://bkt.s3.eu-west-1.amazonaws.com/key", "virtual-hosted-style");
	free(u);
	u = url("http://h:1/gateway/s3/", NULL, "/bkt", NULL, 0);
	cr_assert_str_eq(u, "http://h:1/gateway/s3/bkt", "the base's own path is kept");
	free(u);
	u = url("http://user:pass@h:1/", NULL, "/bkt", NULL, 0);
	cr_assert_str_eq(u, "http://h:1/bkt", "credentials never travel in the URL");
	free(u);
	u = url("http://h:1", "bkt.", "", NULL, 0);
	cr_assert_str_eq(u, "http://bkt.h:1/");
	free(u);
	cr_assert_eq(rs_http_url_build(&u, "ftp://h/", NULL, "/x", NULL, 0), RS_EUSAGE);
	cr_assert_null(u);
	cr_assert_eq(rs_http_url_build(&u, "not a url", NULL, "/x", NULL, 0), RS_EUSAGE);
}

Test(s3url, layout_prefix_as_distribution_trims_the_root)
{
	static const char *const cases[][2] = {
		{"/lab", "lab/docker/registry/v2/"}, {"/lab/", "lab/docker/registry/v2/"},
		{"lab", "lab/docker/registry/v2/"}, {"", "docker/registry/v2/"},
		{"/", "docker/registry/v2/"}, {"/a/b", "a/b/docker/registry/v2/"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = NULL;

		cr_assert_eq(rs_s3_layout_prefix(&p, cases[i][0]), 0);
		cr_assert_str_eq(p, cases[i][1], "root '%s'", cases[i][0]);
		free(p);
	}
}

/* --------------------------------------------------------------- SigV4 */

struct seen {
	char authorization[1024];
	char content_sha[128];
	char token[128];
	char date[64];
	int had_token;
};

static void record_headers(const struct mock_request *req, struct mock_response *resp, void *ud)
{
	struct seen *s = ud;
	const char *v;

	snprintf(s->authorization, sizeof(s->authorization), "%s",
		 req->authorization ? req->authorization : "");
	v = mock_request_header(req, "x-amz-content-sha256");
	snprintf(s->content_sha, sizeof(s->content_sha), "%s", v ? v : "");
	v = mock_request_header(req, "x-amz-security-token");
	s->had_token = v != NULL;
	snprintf(s->token, sizeof(s->token), "%s", v ? v : "");
	v = mock_request_header(req, "x-amz-date");
	snprintf(s->date, sizeof(s->date), "%s", v ? v : "");
	mock_reply(resp, 200, "ok");
}

static void signed_get(struct mock_server *server, const char *token)
{
	struct rs_http_options opts = RS_HTTP_OPTIONS_INIT;
	struct rs_http *http = NULL;
	struct rs_http_req *req = NULL;
	struct rs_http_response resp;

	cr_assert_eq(rs_http_new(&http, &opts), 0);
	cr_assert_eq(rs_http_req_new(&req, "GET", mock_url(server, "/bkt/key", 0)), 0);
	cr_assert_eq(rs_http_req_aws_sigv4(req, "aws:amz:us-east-1:s3", "account:user",
					   "Secret-Key-1234", token), 0);
	cr_assert_eq(rs_http_perform(http, req, &resp), 0, "%s", rs_error_message());
	cr_assert_eq(resp.status, 200);
	rs_http_response_release(&resp);
	rs_http_free(http);
}

Test(s3sign, signed_requests_carry_what_s3_wants)
{
	struct seen s;
	struct mock_server *server;

	memset(&s, 0, sizeof(s));
	server = mock_start(record_headers, &s);
	cr_assert_not_null(server);
	signed_get(server, "Session-Token-5678");
	cr_assert(strncmp(s.authorization, "AWS4-HMAC-SHA256 Credential=account:user/", 41) == 0,
		  "the access key, colon and all: '%s'", s.authorization);
	cr_assert(strstr(s.authorization, "/us-east-1/s3/aws4_request"), "%s", s.authorization);
	cr_assert(strstr(s.authorization, "x-amz-security-token"), "the token is signed: %s",
		  s.authorization);
	cr_assert_null(strstr(s.authorization, "Secret-Key-1234"));
	cr_assert_str_eq(s.content_sha, "UNSIGNED-PAYLOAD");
	cr_assert_str_eq(s.token, "Session-Token-5678");
	cr_assert_eq(strlen(s.date), 16, "x-amz-date: '%s'", s.date);

	signed_get(server, NULL);
	cr_assert(!s.had_token, "no token, no header");
	cr_assert_null(strstr(s.authorization, "x-amz-security-token"));
	mock_stop(server);
}

/* ---------------------------------------------------------- credentials */

static const char *fake_env[16][2];

static const char *env_of(const char *name)
{
	for (size_t i = 0; i < 16 && fake_env[i][0]; i++)
		if (strcmp(fake_env[i][0], name) == 0)
			return fake_env[i][1];
	return NULL;
}

static void set_env(const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < 15 && fake_env[i][0] && strcmp(fake_env[i][0], name) != 0; i++)
		;
	fake_env[i][0] = name;
	fake_env[i][1] = value;
}

static char home[64];

static void make_home(void)
{
	memset(fake_env, 0, sizeof(fake_env));
	snprintf(home, sizeof(home), "/tmp/test_s3.XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	set_env("HOME", home);
	rs_secret_clear();
}

static void remove_home(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	cr_assert_eq(system(cmd), 0);
}

static void write_file(const char *rel, const char *text)
{
	char path[256], cmd[300];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", home, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	cr_assert_eq(system(cmd), 0);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
	chmod(path, 0600);
}

static int resolve(struct rs_s3_credentials *c, const char *cfg_ak, const char *cfg_sk,
		   const char *file)
{
	struct rs_s3_credential_sources src;
	char path[256];

	memset(&src, 0, sizeof(src));
	src.config_access_key = cfg_ak;
	src.config_secret_key = cfg_sk;
	src.config_name = "config.yml";
	src.env = env_of;
	if (file) {
		snprintf(path, sizeof(path), "%s/%s", home, file);
		src.file = path;
	}
	return rs_s3_credentials_resolve(c, &src);
}

static char warnings[2048];

static void keep_warnings(enum rs_log_level level, const char *line, void *ud)
{
	(void)ud;
	if (level <= RS_LOG_WARN)
		snprintf(warnings + strlen(warnings), sizeof(warnings) - strlen(warnings), "%s\n",
			 line);
}

TestSuite(s3cred, .init = make_home, .fini = remove_home);

Test(s3cred, the_registry_config_goes_first)
{
	struct rs_s3_credentials c;

	set_env("AWS_ACCESS_KEY_ID", "ENVKEY");
	set_env("AWS_SECRET_ACCESS_KEY", "env-secret");
	write_file(".aws/credentials", "[default]\naws_access_key_id = FILEKEY\n"
		   "aws_secret_access_key = file-secret\n");
	cr_assert_eq(resolve(&c, "CFGKEY", "cfg-secret", NULL), 0);
	cr_assert_str_eq(c.access_key, "CFGKEY");
	cr_assert_str_eq(c.secret_key, "cfg-secret");
	cr_assert(strstr(c.source, "config.yml"));
	cr_assert(rs_contains_secret("cfg-secret"), "the secret is masked in every log line");
	rs_s3_credentials_release(&c);
	cr_assert_null(c.secret_key);

	/* half a pair in the config is none: distribution takes both or neither */
	cr_assert_eq(resolve(&c, "CFGKEY", NULL, NULL), 0);
	cr_assert_str_eq(c.access_key, "ENVKEY");
	rs_s3_credentials_release(&c);
}

Test(s3cred, then_the_environment_with_its_session_token)
{
	struct rs_s3_credentials c;

	set_env("AWS_ACCESS_KEY_ID", "ENVKEY");
	set_env("AWS_SECRET_ACCESS_KEY", "env-secret");
	set_env("AWS_SESSION_TOKEN", "env-token");
	write_file(".aws/credentials", "[default]\naws_access_key_id = FILEKEY\n"
		   "aws_secret_access_key = file-secret\n");
	cr_assert_eq(resolve(&c, NULL, NULL, NULL), 0);
	cr_assert_str_eq(c.access_key, "ENVKEY");
	cr_assert_str_eq(c.session_token, "env-token");
	cr_assert_str_eq(c.source, "AWS_ACCESS_KEY_ID");
	cr_assert(rs_contains_secret("env-token"));
	rs_s3_credentials_release(&c);

	/* a key without its secret is not a pair */
	set_env("AWS_SECRET_ACCESS_KEY", "");
	cr_assert_eq(resolve(&c, NULL, NULL, NULL), 0);
	cr_assert_str_eq(c.access_key, "FILEKEY");
	cr_assert_null(c.session_token);
	rs_s3_credentials_release(&c);
}

Test(s3cred, then_the_shared_file_and_its_profiles)
{
	struct rs_s3_credentials c;

	write_file(".aws/credentials", "# comment\n[default]\naws_access_key_id=DEFKEY\n"
		   "aws_secret_access_key = def-secret \n\n[other]\r\naws_access_key_id = OTHERKEY\r\n"
		   "aws_secret_access_key = other-secret\r\naws_session_token = other-token\r\n");
	cr_assert_eq(resolve(&c, NULL, NULL, NULL), 0);
	cr_assert_str_eq(c.access_key, "DEFKEY");
	cr_assert_str_eq(c.secret_key, "def-secret", "values are trimmed");
	cr_assert(strstr(c.source, "'default'"));
	rs_s3_credentials_release(&c);

	set_env("AWS_PROFILE", "other");
	cr_assert_eq(resolve(&c, NULL, NULL, NULL), 0);
	cr_assert_str_eq(c.access_key, "OTHERKEY");
	cr_assert_str_eq(c.session_token, "other-token");
	rs_s3_credentials_release(&c);

	set_env("AWS_PROFILE", "missing");
	cr_assert_eq(resolve(&c, NULL, NULL, NULL), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "'missing'"), "%s", rs_error_message());
	cr_assert_null(c.access_key);

	set_env("AWS_PROFILE", "");
	write_file("elsewhere", "[default]\naws_access_key_id = ELSEKEY\n"
		   "aws_secret_access_key = else-secret\n");
	{
		static char path[256], absent[256];

		snprintf(path, sizeof(path), "%s/elsewhere", home);
		set_env("AWS_SHARED_CREDENTIALS_FILE", path);
		cr_assert_eq(resolve(&c, NULL, NULL, NULL), 0);
		cr_assert_str_eq(c.access_key, "ELSEKEY");
		rs_s3_credentials_release(&c);
		snprintf(absent, sizeof(absent), "%s/nowhere", home);
		set_env("AWS_SHARED_CREDENTIALS_FILE", absent);
		cr_assert_eq(resolve(&c, NULL, NULL, NULL), RS_EUSAGE,
			     "a file named on purpose must exist");
	}
}

Test(s3cred, the_option_file_comes_last)
{
	struct rs_s3_credentials c;

	write_file("keys", "aws_access_key_id = OPTKEY\naws_secret_access_key = opt-secret\n");
	cr_assert_eq(resolve(&c, NULL, NULL, "keys"), 0, "%s", rs_error_message());
	cr_assert_str_eq(c.access_key, "OPTKEY", "a file of one profile needs no section");
	cr_assert(strstr(c.source, "--s3-credentials"));
	rs_s3_credentials_release(&c);

	/* a source before it wins, and the user is told */
	warnings[0] = '\0';
	rs_log_set_handler(keep_warnings, NULL);
	set_env("AWS_ACCESS_KEY_ID", "ENVKEY");
	set_env("AWS_SECRET_ACCESS_KEY", "env-secret");
	cr_assert_eq(resolve(&c, NULL, NULL, "keys"), 0);
	rs_log_set_handler(NULL, NULL);
	cr_assert_str_eq(c.access_key, "ENVKEY");
	cr_assert(strstr(warnings, "is not used"), "%s", warnings);
	rs_s3_credentials_release(&c);
	set_env("AWS_ACCESS_KEY_ID", "");

	cr_assert_eq(resolve(&c, NULL, NULL, "absent"), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "does not exist"), "%s", rs_error_message());
	write_file("empty", "[default]\nregion = x\n");
	cr_assert_eq(resolve(&c, NULL, NULL, "empty"), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "holds no aws_access_key_id"));
}

Test(s3cred, none_anywhere_says_where_it_looked)
{
	struct rs_s3_credentials c;

	cr_assert_eq(resolve(&c, NULL, NULL, NULL), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "no S3 credentials"), "%s", rs_error_message());
	cr_assert(strstr(rs_error_message(), "AWS_ACCESS_KEY_ID"));
	cr_assert(strstr(rs_error_message(), "--s3-credentials"));
}

Test(s3cred, described_with_the_secrets_masked)
{
	char line[512];

	set_env("AWS_ACCESS_KEY_ID", "ENVKEY");
	set_env("AWS_SECRET_ACCESS_KEY", "env-secret-value");
	set_env("AWS_SESSION_TOKEN", "env-token-value");
	rs_s3_credentials_describe(line, sizeof(line), NULL, env_of);
	cr_assert(strstr(line, "ENVKEY"), "%s", line);
	cr_assert(strstr(line, "***"));
	cr_assert_null(strstr(line, "env-secret-value"));
	cr_assert_null(strstr(line, "env-token-value"));
	memset(fake_env, 0, sizeof(fake_env));
	rs_s3_credentials_describe(line, sizeof(line), NULL, env_of);
	cr_assert_str_eq(line, "");
}
