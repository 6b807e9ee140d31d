/* test_url.c: URLs through libcurl's URL API: parts, default ports, the
 * origin that keeps links on the registry, resolution, and user names and
 * passwords taken out before a URL is shown. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "net/url.h"

Test(url, parts_and_default_ports)
{
	struct rs_url u;

	cr_assert_eq(rs_url_parse(&u, "HTTPS://R.Example/v2/x?n=1", 0), 0);
	cr_assert_str_eq(u.scheme, "https");
	cr_assert_str_eq(u.host, "r.example");
	cr_assert_eq(u.port, 443);
	cr_assert_eq(u.explicit_port, 0);
	cr_assert_str_eq(u.path, "/v2/x");
	cr_assert_str_eq(u.query, "n=1");
	cr_assert_eq(u.has_userinfo, 0);
	rs_url_release(&u);
	cr_assert_eq(rs_url_parse(&u, "127.0.0.1:5000", RS_URL_DEFAULT_HTTPS), 0);
	cr_assert_str_eq(u.scheme, "https");
	cr_assert_str_eq(u.host, "127.0.0.1");
	cr_assert_eq(u.port, 5000);
	cr_assert_eq(u.explicit_port, 1);
	cr_assert_str_eq(u.path, "/");
	rs_url_release(&u);
	cr_assert_eq(rs_url_parse(&u, "http://user:pw@[::1]:8080", 0), 0);
	cr_assert_eq(u.has_userinfo, 1);
	cr_assert_eq(u.port, 8080);
	rs_url_release(&u);
}

Test(url, what_is_not_a_url_is_refused_without_its_secret)
{
	struct rs_url u;

	cr_assert_eq(rs_url_parse(&u, "http://", 0), RS_EUSAGE);
	cr_assert_eq(rs_url_parse(&u, "http://user:hunter2@exa mple/", 0), RS_EUSAGE);
	cr_assert_null(strstr(rs_error_message(), "hunter2"), "%s", rs_error_message());
}

Test(url, origins_and_resolution)
{
	char *out = NULL;

	cr_assert_eq(rs_url_origin(&out, "http://r.example/v2/"), 0);
	cr_assert_str_eq(out, "http://r.example:80");
	free(out);
	cr_assert_eq(rs_url_resolve(&out, "https://r.example:5000/v2/_catalog?n=2",
				    "/v2/_catalog?last=b&n=2"), 0);
	cr_assert_str_eq(out, "https://r.example:5000/v2/_catalog?last=b&n=2");
	free(out);
	cr_assert_eq(rs_url_resolve(&out, "https://r.example/v2/a/tags/list", "list?last=x"), 0);
	cr_assert_str_eq(out, "https://r.example/v2/a/tags/list?last=x");
	free(out);
}

Test(url, user_names_and_passwords_are_taken_out)
{
	char buf[256];

	cr_assert_str_eq(rs_url_strip_userinfo(buf, sizeof(buf), "https://ci:s3cret@r.example:5000/"),
			 "https://r.example:5000/");
	cr_assert_str_eq(rs_url_strip_userinfo(buf, sizeof(buf), "https://ci:s3cret@r.example"),
			 "https://r.example");
	cr_assert_str_eq(rs_url_strip_userinfo(buf, sizeof(buf), "http://r/x@y"), "http://r/x@y");
	cr_assert_str_eq(rs_url_strip_userinfo(buf, sizeof(buf), "not a url"), "not a url");
	cr_assert_null(strstr(rs_url_strip_userinfo(buf, sizeof(buf), "::%@bad s3cret@"), "s3cret"));
}

Test(url, path_and_query_for_log_lines)
{
	char *out = NULL;

	cr_assert_eq(rs_url_path_query(&out, "https://r.example/v2/app/manifests/v1"), 0);
	cr_assert_str_eq(out, "/v2/app/manifests/v1");
	free(out);
	cr_assert_eq(rs_url_path_query(&out, "http://r:1/v2/_catalog?n=10"), 0);
	cr_assert_str_eq(out, "/v2/_catalog?n=10");
	free(out);
}
