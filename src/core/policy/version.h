/* version.h: tag names compared as versions, for `order: version`.
 *
 * How two names compare:
 *   - a leading "v" or "V" before a digit is ignored ("v1.2" is "1.2");
 *   - a name that is a semantic version (MAJOR.MINOR.PATCH, then an
 *     optional "-PRERELEASE" and "+BUILD") has SemVer 2.0 precedence:
 *     1.2.10 > 1.2.9, 1.0.0-rc.1 < 1.0.0, 1.0.0-alpha < 1.0.0-alpha.1 <
 *     1.0.0-beta.2 < 1.0.0-beta.11; build metadata does not count;
 *   - any other name compares piece by piece, runs of digits by their value
 *     and the text between them byte by byte (build-9 < build-10, and
 *     1.2.10 > 1.2.9b); a run of digits sorts before text, and a name that
 *     ends sorts before one that goes on (1.2 < 1.2.1), except that a
 *     semantic version's pre-release sorts before its end;
 *   - names that compare equal that way (v1.0 and 1.0, 1.0.0+a and 1.0.0)
 *     are ordered by name, byte by byte, so that only equal names tie.
 * This is a total order: sorting with it gives the same result whatever
 * order the names came in. Digit runs of any length compare exactly.
 */
#ifndef RS_VERSION_H
#define RS_VERSION_H

/* <0, 0 or >0 as `a` is a lower, the same or a higher version than `b`;
 * 0 only when the names are equal. */
int rs_version_compare(const char *a, const char *b);

/* Does `name` hold a version at all (a digit)? "latest" and "stable" do
 * not: the planner keeps such tags rather than guess where they rank. */
int rs_version_has_number(const char *name);

#endif
