#!/usr/bin/python3
"""check-page.py: check a regsweep report page against the JSON it shows.

usage: check-page.py PAGE.html [REPORT.json]

Every element with data-key (a dotted JSON path such as before.bytes or
per_repo.2.after.tags; an array stands for its length) and data-value must
equal the report's value there (with REPORT; without it only the page's own
rules are checked). The page must load nothing: no script, no src, no
link, every href an anchor within the page. Prints "ok N figures" or what is
wrong, and exits 1.
"""
import html.parser
import json
import sys


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.figures = []
        self.problems = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe", "object", "embed", "base"):
            self.problems.append("a <%s> element" % tag)
        for name, value in attrs:
            if name == "src":
                self.problems.append("<%s src=%r> loads something" % (tag, value))
            if name == "href" and not (value or "").startswith("#"):
                self.problems.append("<%s href=%r> leaves the page" % (tag, value))
            if name.startswith("on"):
                self.problems.append("<%s %s=...> is a script" % (tag, name))
        if "data-key" in a and "data-value" in a:
            self.figures.append((a["data-key"], a["data-value"]))


def value_at(doc, path):
    v = doc
    for part in path.split("."):
        if isinstance(v, list):
            v = v[int(part)]
        elif isinstance(v, dict) and part in v:
            v = v[part]
        else:
            raise KeyError(path)
    if isinstance(v, list):
        return len(v)
    return v


def main():
    page = Page()
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    page.feed(text)
    problems = page.problems
    if "url(" in text or "@import" in text:
        problems.append("the style loads something")
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            doc = json.load(f)
        for key, value in page.figures:
            try:
                want = value_at(doc, key)
            except (KeyError, IndexError, ValueError):
                problems.append("%s: on the page (%s), not in the report" % (key, value))
                continue
            if not isinstance(want, (int, float)) or isinstance(want, bool) or \
                    abs(float(value) - want) > 0.0005:
                problems.append("%s: the page says %s, the report %r" % (key, value, want))
    if not page.figures:
        problems.append("no figure carries data-key and data-value")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("ok %d figures" % len(page.figures))


if __name__ == "__main__":
    main()
