/* test_inuse.c: lists of images in use (kubectl, docker) and which of
 * their references name this registry. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/error.h"
#include "policy/inuse.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX
#define DIGEST2 "sha256:" HEX2
#define HEX2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static struct rs_inuse *parsed(const char *text)
{
	struct rs_inuse *set = NULL;

	cr_assert_eq(rs_inuse_new(&set), 0);
	cr_assert_eq(rs_inuse_parse(set, text, strlen(text), "pods.txt"), 0, "%s",
		     rs_error_message());
	return set;
}

static void ref_is(const struct rs_image_ref *ref, const char *host, const char *repo,
		   const char *tag, const char *digest)
{
	cr_assert_str_eq(ref->host, host, "%s", ref->text);
	cr_assert_str_eq(ref->repo, repo, "%s", ref->text);
	if (tag)
		cr_assert_str_eq(ref->tag, tag, "%s", ref->text);
	else
		cr_assert_null(ref->tag, "%s", ref->text);
	cr_assert_str_eq(ref->digest, digest, "%s", ref->text);
}

Test(inuse, every_reference_form)
{
	/* as `kubectl get pods -A -o jsonpath='{..image} {..imageID}'` prints them */
	struct rs_inuse *set = parsed(
		"registry.example.com:5000/team/app:1.4.2 registry.example.com/app@" DIGEST "\n"
		"docker-pullable://127.0.0.1:5000/web@" DIGEST "\tnginx:1.25 busybox\n"
		"localhost:5000/tools/x:v1 Registry.Example.COM/app:2@" DIGEST2 "\n"
		"[::1]:5000/v6:latest docker.io/library/redis:7 ghcr.io/org/img:sha-1f2e\n");

	cr_assert_eq(set->nrefs, 10);
	ref_is(&set->refs[0], "registry.example.com:5000", "team/app", "1.4.2", "");
	ref_is(&set->refs[1], "registry.example.com", "app", NULL, DIGEST);
	ref_is(&set->refs[2], "127.0.0.1:5000", "web", NULL, DIGEST);
	cr_assert_str_eq(set->refs[2].text, "127.0.0.1:5000/web@" DIGEST, "the prefix is dropped");
	ref_is(&set->refs[3], "docker.io", "library/nginx", "1.25", "");
	ref_is(&set->refs[4], "docker.io", "library/busybox", "latest", "");
	ref_is(&set->refs[5], "localhost:5000", "tools/x", "v1", "");
	/* tag and digest: the digest is what runs; the host is case-blind */
	ref_is(&set->refs[6], "registry.example.com", "app", NULL, DIGEST2);
	ref_is(&set->refs[7], "[::1]:5000", "v6", "latest", "");
	ref_is(&set->refs[8], "docker.io", "library/redis", "7", "");
	ref_is(&set->refs[9], "ghcr.io", "org/img", "sha-1f2e", "");
	cr_assert_str_eq(set->refs[0].source, "pods.txt");
	cr_assert_eq(set->refs[0].line, 1);
	cr_assert_eq(set->refs[2].line, 2);
	cr_assert_eq(set->refs[9].line, 4);
	rs_inuse_free(set);
}

Test(inuse, image_ids_are_counted_apart)
{
	struct rs_inuse *set = parsed("sha256:" HEX " docker://sha256:" HEX "\n" HEX "\n"
				      "r.example/app:v1\n");

	cr_assert_eq(set->nrefs, 1);
	cr_assert_eq(set->image_ids, 2, "sha256:HEX twice is one image ID; bare HEX another");
	rs_inuse_free(set);
}

Test(inuse, duplicates_and_spellings_count_once)
{
	struct rs_inuse *set = parsed("nginx:1.25 docker.io/library/nginx:1.25\n"
				      "index.docker.io/library/nginx:1.25 nginx:1.25 nginx:1.26\n");

	cr_assert_eq(set->nrefs, 2);
	rs_inuse_free(set);
}

Test(inuse, comments_and_a_list_that_says_nothing_is_in_use)
{
	struct rs_inuse *set = parsed("# nothing in use\n");

	cr_assert_eq(set->nrefs, 0);
	cr_assert_eq(rs_inuse_parse(set, "a:1 # b:2 c:3\nr.example/d:4\n",
				   strlen("a:1 # b:2 c:3\nr.example/d:4\n"), "x"), 0);
	cr_assert_eq(set->nrefs, 2, "a comment runs to the end of its line");
	rs_inuse_free(set);
}

Test(inuse, an_empty_list_is_refused)
{
	struct rs_inuse *set = NULL;

	cr_assert_eq(rs_inuse_new(&set), 0);
	cr_assert_eq(rs_inuse_parse(set, " \n\t\n", 4, "standard input"), RS_EUSAGE);
	cr_assert_str_eq(rs_error_message(), "standard input: the in-use list is empty, which a "
			 "command that failed also leaves: if nothing is in use, say so with a line "
			 "'# nothing in use'");
	cr_assert_eq(rs_inuse_parse(set, "", 0, "pods.txt"), RS_EUSAGE);
	rs_inuse_free(set);
}

static void refused(const char *text, size_t len, const char *message)
{
	struct rs_inuse *set = parsed("r.example/kept:v1\n");

	cr_assert_eq(rs_inuse_parse(set, text, len, "pods.txt"), RS_EUSAGE, "%s", text);
	cr_assert_str_eq(rs_error_message(), message);
	cr_assert_eq(set->nrefs, 1, "a bad list adds nothing, not even its good lines");
	cr_assert_eq(set->nsources, 1);
	rs_inuse_free(set);
}

#define WANT " (want HOST/REPO:TAG or HOST/REPO@sha256:..., as kubectl and docker print them)"

Test(inuse, garbage_is_an_error_with_the_line)
{
	refused("r.example/a:1\nr.example/b:2 {\"items\":[]}\n", 40,
		"pods.txt:2: '{\"items\":[]}' is not an image reference: invalid tag" WANT);
	refused("r.example/App:1\n", 16, "pods.txt:1: 'r.example/App:1' is not an image reference: "
		"invalid repository name (lower case letters, digits, separators)" WANT);
	refused("\n\nr.example/app:\n", 16, "pods.txt:3: 'r.example/app:' is not an image "
		"reference: invalid tag" WANT);
	refused("r.example/app@sha256:abc\n", 25, "pods.txt:1: 'r.example/app@sha256:abc' is not "
		"an image reference: the digest is not sha256: and 64 hexadecimal digits" WANT);
	refused("@" DIGEST, 72, "pods.txt:1: '@" DIGEST "' is not an image reference: no "
		"repository" WANT);
	refused("https://r.example/app:1", 23, "pods.txt:1: 'https://r.example/app:1' is not an "
		"image reference: unknown scheme (only docker-pullable:// and docker:// are read)"
		WANT);
	refused("r_x.example:5000/app:1", 22, "pods.txt:1: 'r_x.example:5000/app:1' is not an "
		"image reference: invalid registry host" WANT);
	refused("r.example/app:1\x01\x7f\xff", 18, "pods.txt:1: 'r.example/app:1??" "?' is not "
		"an image reference: invalid tag" WANT);
	refused("r.example/a\0pp:1", 17, "pods.txt:1: 'r.example/a' is not an image reference");
}

Test(inuse, a_long_token_is_cut_short_in_the_message)
{
	char text[RS_INUSE_MAX_REF + 100];

	memset(text, 'a', sizeof(text));
	refused(text, sizeof(text), "pods.txt:1: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not an image reference (too long)");
}

static struct rs_image_ref ref(const char *text)
{
	struct rs_image_ref r;

	cr_assert_eq(rs_image_ref_parse(&r, text), 0, "%s: %s", text, rs_error_message());
	return r;
}

static void names(const char *text, const char *url, int want)
{
	struct rs_image_ref r = ref(text);

	cr_assert_eq(rs_inuse_names_registry(&r, url), want, "%s names %s: %d", text, url, want);
	rs_image_ref_release(&r);
}

Test(inuse, which_references_name_this_registry)
{
	names("127.0.0.1:5000/app:1", "http://127.0.0.1:5000", 1);
	names("127.0.0.1:5001/app:1", "http://127.0.0.1:5000", 0);
	names("127.0.0.1/app:1", "http://127.0.0.1:5000", 0);
	/* the default port of the scheme, written or not */
	names("registry.example.com/app:1", "https://registry.example.com", 1);
	names("registry.example.com:443/app:1", "https://registry.example.com", 1);
	names("registry.example.com/app:1", "https://registry.example.com:443/", 1);
	names("registry.example.com/app:1", "https://registry.example.com:5000", 0);
	names("registry.example.com/app:1", "http://registry.example.com", 1);
	names("registry.example.com:80/app:1", "http://registry.example.com", 1);
	names("REGISTRY.example.com/app:1", "https://registry.EXAMPLE.com/v2/", 1);
	names("other.example.com/app:1", "https://registry.example.com", 0);
	names("app:1", "https://registry.example.com", 0);
	/* user:password@ is no part of the host */
	names("registry.example.com/app:1", "https://ci:secret@registry.example.com", 1);
	/* loopback names name each other: keeping too much is the safe side */
	names("localhost:5000/app:1", "http://127.0.0.1:5000", 1);
	names("127.0.0.1:5000/app:1", "http://localhost:5000", 1);
	names("[::1]:5000/app:1", "http://127.0.0.1:5000", 1);
	names("127.0.0.2:5000/app:1", "http://[::1]:5000", 1);
	names("localhost:5000/app:1", "http://10.0.0.1:5000", 0);
}

Test(inuse, match_indexes_this_registry_by_repository)
{
	struct rs_inuse *set = parsed("127.0.0.1:5000/app:v1 127.0.0.1:5000/app@" DIGEST "\n"
				      "127.0.0.1:5000/web:v2 docker.io/library/app:v1 ghcr.io/x/y:1\n");
	struct rs_inuse_match m;
	size_t i, seen = 0;

	cr_assert_eq(rs_inuse_match_init(&m, set, "http://127.0.0.1:5000"), 0);
	cr_assert_eq(m.nhere, 3);
	cr_assert_eq(m.nelsewhere, 2);
	for (i = rs_inuse_match_first(&m, "app"); i != (size_t)-1; i = rs_inuse_match_next(&m, i)) {
		cr_assert_str_eq(set->refs[i].repo, "app");
		cr_assert(m.here[i]);
		seen++;
	}
	cr_assert_eq(seen, 2);
	cr_assert_eq(rs_inuse_match_first(&m, "library/app"), (size_t)-1,
		     "docker.io's app is another registry's");
	cr_assert_eq(rs_inuse_match_first(&m, "nope"), (size_t)-1);
	rs_inuse_match_release(&m);

	cr_assert_eq(rs_inuse_match_init(&m, NULL, "http://127.0.0.1:5000"), 0);
	cr_assert_eq(rs_inuse_match_first(&m, "app"), (size_t)-1);
	rs_inuse_match_release(&m);
	rs_inuse_free(set);
}

Test(inuse, read_a_file)
{
	char path[] = "/tmp/test_inuse.XXXXXX";
	struct rs_inuse *set = NULL;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "r.example/app:v1\n\nr.example/app:v2 bad!\n", 40), 40);
	close(fd);
	cr_assert_eq(rs_inuse_new(&set), 0);
	cr_assert_eq(rs_inuse_read(set, path), RS_EUSAGE);
	cr_assert(strncmp(rs_error_message(), path, strlen(path)) == 0, "%s", rs_error_message());
	cr_assert(strstr(rs_error_message(), ":3: 'bad!' is not an image reference"), "%s",
		  rs_error_message());
	unlink(path);
	cr_assert_eq(rs_inuse_read(set, path), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "cannot read the in-use list"));
	cr_assert_eq(rs_inuse_read(set, "/"), RS_EUSAGE, "a directory is no list");
	rs_inuse_free(set);
}
