/* find.c: the storage backend for a filesystem driver's root on the SSH
 * host, read in one pass: a POSIX sh script (fed to `sh -s`, the root passed
 * as its first parameter) runs GNU find over the repositories and the blob
 * store and prints one line per thing found; this file parses those lines
 * and reports them to the sink. Over SFTP the same view costs a round trip
 * per directory and file; here it costs one command. Where the host's find
 * cannot print (busybox), the script says so and the SFTP walk is used.
 *
 * Lines (every path relative to ROOT/docker/registry/v2):
 *   R repositories/NAME                        a directory holding _manifests
 *   M TIME SIZE repositories/NAME/_manifests/revisions/sha256/HEX/link
 *   D repositories/NAME/_manifests/tags/TAG    a tag's directory
 *   T TIME SIZE repositories/NAME/_manifests/tags/TAG/current/link
 *   X repositories/PARENT                      PARENT holds an odd name
 *   B SIZE XX/HEX/data                         under blobs/sha256
 *   repositories/NAME/_manifests/tags/TAG/current/link:CONTENT
 *   @@noroot | @@notregistry | @@nofind | @@done
 * A name with a character no registry name has is never printed (it could
 * hold a newline): its directory is, on an X line, and it is not descended
 * into. Nothing read from the storage goes into a command.
 */
#include "storage/backend.h"
#include "storage/sftp.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "host/ssh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct find {
	struct rs_ssh *ssh;            /* borrowed */
	char *root;
	long timeout_ms;
	int sftp;                      /* read over SFTP instead */
};

/* The script, in parts chosen by what is read. $1 is the root. */
static const char script_head[] =
	"# regsweep: the storage view in one pass (see find.c)\n"
	"cd -- \"$1\" 2>/dev/null || { echo @@noroot; exit 0; }\n"
	"if [ ! -d docker/registry/v2 ]; then\n"
	"\tif [ -z \"$(ls -A 2>/dev/null)\" ]; then echo @@done; else echo @@notregistry; fi\n"
	"\texit 0\n"
	"fi\n"
	"cd docker/registry/v2 || exit 1\n"
	"LC_ALL=C\n"
	"export LC_ALL\n"
	"find . -maxdepth 0 -printf '' >/dev/null 2>&1 || { echo @@nofind; exit 0; }\n"
	"rs_odd='*[!A-Za-z0-9._-]*'\n"
	"set -e\n";

/* Names starting with . or _ in the namespace (_layers, _uploads...) are
 * not repositories; inside _manifests every name is looked at. */
static const char repos_prune[] =
	"\\( -name '[._]*' ! -name _manifests ! -path '*/_manifests/*' -prune \\) -o "
	"\\( -name \"$rs_odd\" -printf 'X %h\\n' -prune \\) -o ";

int rs_storage_find_script(struct rs_buf *out, unsigned what)
{
	int rc = rs_buf_puts(out, script_head);

	if (rc == 0 && (what & (RS_STORAGE_MANIFESTS | RS_STORAGE_TAGS))) {
		rc = rs_buf_puts(out, "if [ -d repositories ]; then\n\tfind repositories ");
		if (rc == 0)
			rc = rs_buf_puts(out, repos_prune);
		/* what is not read is not walked either */
		if (rc == 0 && !(what & RS_STORAGE_MANIFESTS))
			rc = rs_buf_puts(out, "\\( -path '*/_manifests/revisions' -prune \\) -o ");
		if (rc == 0 && !(what & RS_STORAGE_TAGS))
			rc = rs_buf_puts(out, "\\( -path '*/_manifests/tags' -prune \\) -o ");
		if (rc == 0 && (what & RS_STORAGE_TAGS))
			rc = rs_buf_puts(out, "\\( -path '*/_manifests/tags/*/index' -prune \\) -o ");
		if (rc == 0)
			rc = rs_buf_puts(out, "\\( -type d -name _manifests -printf 'R %h\\n' \\)");
		if (rc == 0 && (what & RS_STORAGE_MANIFESTS))
			rc = rs_buf_puts(out, " -o \\( -type f -path '*/_manifests/revisions/sha256/*/link' "
					 "-printf 'M %T@ %s %p\\n' \\)");
		if (rc == 0 && (what & RS_STORAGE_TAGS))
			rc = rs_buf_puts(out, " -o \\( -type d -path '*/_manifests/tags/*' "
					 "! -path '*/_manifests/tags/*/*' -printf 'D %p\\n' \\)"
					 " -o \\( -type f -path '*/_manifests/tags/*/current/link' "
					 "-printf 'T %T@ %s %p\\n' \\)");
		if (rc == 0)
			rc = rs_buf_puts(out, "\n");
		/* the links' contents: grep -H prints "PATH:CONTENT" per line;
		 * its status 1 (no line: every link empty) is not a failure */
		if (rc == 0 && (what & RS_STORAGE_TAG_LINKS)) {
			rc = rs_buf_puts(out, "\tfind repositories "
					 "\\( -name '[._]*' ! -name _manifests ! -path '*/_manifests/*' "
					 "-prune \\) -o \\( -name \"$rs_odd\" -prune \\) -o ");
			if (rc == 0)
				rc = rs_buf_puts(out, "\\( -path '*/_manifests/revisions' -prune \\) -o "
						 "\\( -path '*/_manifests/tags/*/index' -prune \\) -o "
						 "\\( -type f -path '*/_manifests/tags/*/current/link' "
						 "-exec sh -c 'grep -aH \"\" \"$@\" || [ $? -eq 1 ]' sh {} + "
						 "\\)\n");
		}
		if (rc == 0)
			rc = rs_buf_puts(out, "fi\n");
	}
	if (rc == 0 && (what & RS_STORAGE_BLOBS))
		rc = rs_buf_puts(out, "if [ -d blobs/sha256 ]; then\n"
				 "\tfind blobs/sha256 -mindepth 3 -maxdepth 3 -type f -name data "
				 "-printf 'B %s %P\\n'\n"
				 "fi\n");
	if (rc == 0)
		rc = rs_buf_puts(out, "echo @@done\n");
	return rc;
}

struct parse {
	struct rs_storage_sink *sink;
	enum rs_storage_find_state state;
};

static const char repos_prefix[] = "repositories/";
static const char manifests_part[] = "/_manifests/";

/* Parse "TIME SIZE " at *p: TIME is seconds with a fraction. */
static int parse_time_size(const char **p, const char *end, int64_t *mtime, int64_t *size)
{
	char num[64], *num_end;
	const char *sp;
	double when;
	unsigned long long n;

	sp = memchr(*p, ' ', (size_t)(end - *p));
	if (!sp || (size_t)(sp - *p) >= sizeof(num))
		return -1;
	memcpy(num, *p, (size_t)(sp - *p));
	num[sp - *p] = '\0';
	errno = 0;
	when = strtod(num, &num_end);
	if (*num_end || errno)
		return -1;
	*mtime = when > 0 ? rs_double_to_int64(when, RS_TIME_UNKNOWN) : RS_TIME_UNKNOWN;
	*p = sp + 1;
	sp = memchr(*p, ' ', (size_t)(end - *p));
	if (!sp || (size_t)(sp - *p) >= sizeof(num) || **p == '-')
		return -1;
	memcpy(num, *p, (size_t)(sp - *p));
	num[sp - *p] = '\0';
	errno = 0;
	n = strtoull(num, &num_end, 10);
	if (*num_end || errno || num_end == num)
		return -1;
	*size = n > (unsigned long long)INT64_MAX ? -1 : (int64_t)n;
	*p = sp + 1;
	return 0;
}

/* Split "repositories/NAME/_manifests/REST" into NAME and REST. */
static int split_manifests(const char *p, const char *end, const char **name, size_t *name_len,
			   const char **rest)
{
	const char *m;

	if ((size_t)(end - p) < sizeof(repos_prefix) - 1 ||
	    memcmp(p, repos_prefix, sizeof(repos_prefix) - 1) != 0)
		return -1;
	p += sizeof(repos_prefix) - 1;
	m = memmem(p, (size_t)(end - p), manifests_part, sizeof(manifests_part) - 1);
	if (!m || m == p)
		return -1;
	*name = p;
	*name_len = (size_t)(m - p);
	*rest = m + sizeof(manifests_part) - 1;
	return 0;
}

/* "tags/TAG" + suffix (e.g. "/current/link"): TAG's span. */
static int tag_span(const char *rest, const char *end, const char *suffix, const char **tag,
		    size_t *tag_len)
{
	size_t slen = strlen(suffix);

	if ((size_t)(end - rest) <= 5 + slen || memcmp(rest, "tags/", 5) != 0 ||
	    memcmp(end - slen, suffix, slen) != 0)
		return -1;
	*tag = rest + 5;
	*tag_len = (size_t)(end - slen - *tag);
	return *tag_len && !memchr(*tag, '/', *tag_len) ? 0 : -1;
}

int rs_storage_find_line(struct rs_storage_sink *sink, const char *line, size_t len,
			 enum rs_storage_find_state *state)
{
	const char *end = line + len, *p, *name, *rest, *tag;
	size_t name_len, tag_len;
	int64_t mtime, size;
	int rc = rs_sink_entry(sink);

	if (rc < 0)
		return rc;
	if (len >= 2 && line[0] == '@' && line[1] == '@') {
		if (len == 8 && memcmp(line, "@@noroot", 8) == 0)
			*state = RS_STORAGE_FIND_NO_ROOT;
		else if (len == 13 && memcmp(line, "@@notregistry", 13) == 0)
			*state = RS_STORAGE_FIND_NOT_REGISTRY;
		else if (len == 8 && memcmp(line, "@@nofind", 8) == 0)
			*state = RS_STORAGE_FIND_NO_FIND;
		else if (len == 6 && memcmp(line, "@@done", 6) == 0)
			*state = RS_STORAGE_FIND_DONE;
		else
			goto garbage;
		return 0;
	}
	if (len > 2 && line[1] == ' ') {
		p = line + 2;
		switch (line[0]) {
		case 'R':
			/* a _manifests right under repositories/ belongs to no name */
			if ((size_t)(end - p) == sizeof(repos_prefix) - 2 &&
			    memcmp(p, repos_prefix, sizeof(repos_prefix) - 2) == 0)
				return 0;
			if ((size_t)(end - p) <= sizeof(repos_prefix) - 1 ||
			    memcmp(p, repos_prefix, sizeof(repos_prefix) - 1) != 0)
				goto garbage;
			p += sizeof(repos_prefix) - 1;
			return rs_sink_repo(sink, p, (size_t)(end - p));
		case 'X':
			if ((size_t)(end - p) == sizeof(repos_prefix) - 2 &&
			    memcmp(p, repos_prefix, sizeof(repos_prefix) - 2) == 0)
				return rs_sink_odd_name(sink, "", 0);
			if ((size_t)(end - p) <= sizeof(repos_prefix) - 1 ||
			    memcmp(p, repos_prefix, sizeof(repos_prefix) - 1) != 0)
				goto garbage;
			p += sizeof(repos_prefix) - 1;
			return rs_sink_odd_name(sink, p, (size_t)(end - p));
		case 'M':
			/* the sink judges the digest's part, as for every backend */
			if (parse_time_size(&p, end, &mtime, &size) < 0 ||
			    split_manifests(p, end, &name, &name_len, &rest) < 0 ||
			    (size_t)(end - rest) <= 17 + 5 ||
			    memcmp(rest, "revisions/sha256/", 17) != 0 || memcmp(end - 5, "/link", 5) != 0 ||
			    memchr(rest + 17, '/', (size_t)(end - 5 - (rest + 17))))
				goto garbage;
			return rs_sink_revision(sink, name, name_len, rest + 17,
						(size_t)(end - 5 - (rest + 17)), size, mtime, NULL, 0);
		case 'D':
			if (split_manifests(p, end, &name, &name_len, &rest) < 0 ||
			    tag_span(rest, end, "", &tag, &tag_len) < 0)
				goto garbage;
			return rs_sink_tag(sink, name, name_len, tag, tag_len, 0, -1, RS_TIME_UNKNOWN);
		case 'T':
			if (parse_time_size(&p, end, &mtime, &size) < 0 ||
			    split_manifests(p, end, &name, &name_len, &rest) < 0 ||
			    tag_span(rest, end, "/current/link", &tag, &tag_len) < 0)
				goto garbage;
			return rs_sink_tag(sink, name, name_len, tag, tag_len, 1, size, mtime);
		case 'B': {
			const char *sp = memchr(p, ' ', (size_t)(end - p)), *hex;
			char num[32], *num_end;
			unsigned long long n;

			if (!sp || sp == p || (size_t)(sp - p) >= sizeof(num) || *p == '-')
				goto garbage;
			memcpy(num, p, (size_t)(sp - p));
			num[sp - p] = '\0';
			errno = 0;
			n = strtoull(num, &num_end, 10);
			if (*num_end || errno)
				goto garbage;
			p = sp + 1;
			/* XX/HEX/data */
			if ((size_t)(end - p) < 3 + 5 || p[2] != '/' || memcmp(end - 5, "/data", 5) != 0)
				goto garbage;
			hex = p + 3;
			return rs_sink_blob(sink, p, 2, hex, (size_t)(end - 5 - hex),
					    n > (unsigned long long)INT64_MAX ? -1 : (int64_t)n);
		}
		default:
			break;
		}
	}
	/* PATH:CONTENT from grep */
	if (split_manifests(line, end, &name, &name_len, &rest) == 0) {
		static const char link[] = "/current/link:";
		const char *l = memmem(rest, (size_t)(end - rest), link, sizeof(link) - 1);

		if (l && tag_span(rest, l + sizeof(link) - 2, "/current/link", &tag, &tag_len) == 0)
			return rs_sink_tag_content(sink, name, name_len, tag, tag_len,
						   l + sizeof(link) - 1,
						   (size_t)(end - (l + sizeof(link) - 1)));
	}
garbage:
	return rs_sink_garbage(sink, "the storage listing held a line that is not one");
}

static int on_line(enum rs_ssh_stream stream, const char *line, size_t len, void *userdata)
{
	struct parse *ps = userdata;

	if (stream != RS_SSH_STDOUT)
		return 0;
	return rs_storage_find_line(ps->sink, line, len, &ps->state);
}

static int find_read(void *impl, unsigned what, struct rs_storage_sink *sink)
{
	struct find *f = impl;
	struct rs_ssh_exec_options opts = RS_SSH_EXEC_OPTIONS_INIT;
	struct rs_buf script = RS_BUF_INIT;
	struct rs_ssh_exit exit;
	struct parse ps = {sink, RS_STORAGE_FIND_RUNNING};
	const char *argv[1] = {f->root};
	int rc;

	if (f->sftp)
		return rs_storage_sftp_read(f->ssh, f->root, what, sink);
	rc = rs_storage_find_script(&script, what);
	if (rc < 0)
		goto done;
	opts.on_line = on_line;
	opts.userdata = &ps;
	opts.timeout_ms = f->timeout_ms;
	rs_sink_request(sink);
	rc = rs_ssh_script(f->ssh, script.ptr, argv, 1, &opts, &exit);
	if (rc < 0)
		goto done;
	switch (ps.state) {
	case RS_STORAGE_FIND_NO_ROOT:
		rc = rs_sink_root_missing(sink, 0);
		break;
	case RS_STORAGE_FIND_NOT_REGISTRY:
		rc = rs_sink_root_missing(sink, 1);
		break;
	case RS_STORAGE_FIND_NO_FIND:
		/* busybox: walk over SFTP, now and from now on */
		rs_log(RS_LOG_VERBOSE, "storage: find on %s cannot print what the view needs: "
		       "reading over SFTP instead", rs_ssh_describe(f->ssh));
		f->sftp = 1;
		rc = rs_storage_sftp_read(f->ssh, f->root, what, sink);
		break;
	case RS_STORAGE_FIND_DONE:
		if (exit.status == 0)
			break;
		/* fall through */
	default:
		rc = rs_error_set(RS_ERROR, "reading the storage under '%s' on %s failed (exit "
				  "status %d%s%s)", f->root, rs_ssh_describe(f->ssh), exit.status,
				  exit.signal[0] ? ", signal " : "", exit.signal);
		break;
	}
done:
	rs_buf_release(&script);
	return rc;
}

static void find_free(void *impl)
{
	struct find *f = impl;

	if (!f)
		return;
	free(f->root);
	free(f);
}

static const struct rs_storage_ops find_ops = { "filesystem", find_read, find_free };

int rs_storage_open_ssh(struct rs_storage **out, struct rs_ssh *ssh, const char *root, int sftp,
			long timeout_ms)
{
	struct find *f;
	char *where = NULL;

	*out = NULL;
	if (!root || !*root)
		return rs_error_set(RS_EUSAGE, "no storage root directory given");
	if (sftp)
		return rs_storage_open_sftp(out, ssh, root);
	f = calloc(1, sizeof(*f));
	if (!f || !(f->root = strdup(root))) {
		free(f);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	f->ssh = ssh;
	f->timeout_ms = timeout_ms;
	if (asprintf(&where, "'%s' on %s", root, rs_ssh_describe(ssh)) < 0)
		where = NULL;
	return rs_storage_new(out, &find_ops, f, where);
}
