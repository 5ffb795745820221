#!/bin/sh
# Paths the documents give, against where the files are: the module
# directory of rpcd(8), rpcd-module(3) and rpcd-exec(8) against make
# install's and the Debian package's; README's table of packages against what libproto-dev
# ships; README's exec example for the build tree, run from it; the
# functions and files HACKING.md names.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

# The module directories a page names, as rendered (the sed strips the
# overstrikes of bold and underline): LIBDIR's, the default prefix's and
# the Debian package's.
[ -n "${MANDOC:-}" ] || MANDOC=$(command -v mandoc)
# packaging/debian/rpcd.install, with the triplet as the pages write it.
debdir=$(sed -n 's|^\(usr/lib/\)${DEB_HOST_MULTIARCH}\(/rpcd/modules\)/.*|/\1triplet\2|p' \
    "$top_srcdir/packaging/debian/rpcd.install")
ok_test "the Debian package has a module directory: $debdir" test -n "$debdir"
for page in rpcd.8 rpcd-module.3 rpcd-exec.8; do
	if [ -z "$MANDOC" ]; then
		skip "no mandoc: $page not rendered"
		skip "no mandoc: $page not rendered"
		continue
	fi
	"$MANDOC" -T ascii -O width=200 "$top_srcdir/man/$page" |
	    sed 's/.\x08//g' >"$TEST_DIR/page"
	dirs=$(grep -o '[^ (]*/rpcd/modules' "$TEST_DIR/page" | sort -u)
	bad=
	for d in $dirs; do
		case $d in
		libdir/rpcd/modules|/usr/local/lib/rpcd/modules|"$debdir") ;;
		/usr/lib/*-*/rpcd/modules) ;;	# a triplet for an example
		*) bad="$bad $d" ;;
		esac
	done
	ok_test "$page names only the module directories there are:\
 $(echo $dirs)${bad:+ (not:$bad)}" test -z "$bad"
	ok_test "$page names the Debian package's, $debdir" \
	    grep -q "$debdir" "$TEST_DIR/page"
done

# README's "Where files go": every file of libproto-dev in a row that says
# libproto-dev.
rows=$(grep '^| .*libproto-dev' "$top_srcdir/README.md")
missing=
while read -r path; do
	f=${path##*/}
	case $rows in
	*"$f"*) ;;
	*) missing="$missing $f" ;;
	esac
done <"$top_srcdir/packaging/debian/libproto-dev.install"
ok_test "README's table puts every file of libproto-dev there" \
    test -z "$missing" || diag "not said:$missing"

# README's exec example from the build tree: the -m argument of its first
# line, loaded by the built rpcd, and its methods called.
block=$(sed -n '/<!-- exec-build-tree -->/,/^```$/p' "$top_srcdir/README.md")
module=$(echo "$block" | sed -n "s/^server\/rpcd -m '\([^']*\)'.*/\1/p")
ok_test "README gives the exec example for the build tree" test -n "$module"
# make check runs the tests in the build tree, as the README's reader does.
if [ -n "$module" ] && rpcd_start -m "$module"; then
	"$RPCCTL" -S "$RPCD_ADDR" call uptime >"$TEST_DIR/uptime" 2>&1
	ok_test "its uptime method answers" grep -q 'load average' \
	    "$TEST_DIR/uptime" || diag_file <"$TEST_DIR/uptime"
	"$RPCCTL" -S "$RPCD_ADDR" call date >"$TEST_DIR/date" 2>&1
	ok_test "its date method answers" grep -Eq '^[0-9]+$' \
	    "$TEST_DIR/date" || diag_file <"$TEST_DIR/date"
	rpcd_stop
else
	ok 1 "the built rpcd loads the README's exec module: $module"
	skip "no rpcd"
fi

# HACKING.md describes the code as it is: every function and file it
# names in backquotes exists.
missing=
for f in $(grep -o '`[a-z_]*()`' "$top_srcdir/HACKING.md" | tr -d '`()' |
    sort -u); do
	grep -q "^$f(" "$top_srcdir"/server/*.c "$top_srcdir"/client/*.c \
	    "$top_srcdir"/lib/*.c "$top_srcdir"/lib/common/*.c ||
	    missing="$missing $f()"
done
for f in $(grep -o '[a-z_]*\.[ch]\b' "$top_srcdir/HACKING.md" | sort -u); do
	[ -n "$(find "$top_srcdir/server" "$top_srcdir/client" \
	    "$top_srcdir/lib" "$top_srcdir/modules" "$top_srcdir/tests" \
	    -name "$f")" ] || missing="$missing $f"
done
is "$missing" "" "every function and file HACKING.md names exists"

done_testing
