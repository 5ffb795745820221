#!/bin/sh
# Build the Debian packages from a release tarball and prove them: the
# whole round a packager makes, bounded in time.
#
#   packaging/build-deb.sh [-k] [-n] [-o DIR] [TARBALL]
#
# 1. take TARBALL, or run "make dist" in the current (configured) build tree;
# 2. unpack it in a scratch directory next to rpcd_VERSION.orig.tar.gz and
#    add packaging/debian as debian/;
# 3. dpkg-buildpackage -us -uc -b (the package's test suite included,
#    unless -n: DEB_BUILD_OPTIONS=nocheck);
# 4. lintian on the .changes: print every tag and a summary, fail on errors;
# 5. apt-get install the .debs, start the packaged /usr/sbin/rpcd on a free
#    loopback port, answer "rpcctl ping" from the packaged rpcctl, build the
#    libproto(3) example against libproto-dev;
# 6. stop rpcd and purge the packages (unless -k).
#
# The .debs, .changes, build log and lintian report are left in DIR
# (default ./debs).  As root, missing build tools are installed with apt-get;
# steps 5 and 6 need root and are skipped otherwise.  Exits 0 only if every
# step that ran passed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
keep=0
nocheck=0
out=$PWD/debs
while getopts kno: ch; do
	case $ch in
	k) keep=1 ;;
	n) nocheck=1 ;;
	o) out=$OPTARG ;;
	*) echo "usage: $0 [-k] [-n] [-o dir] [tarball]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
tarball=${1:-}

# Bounds, in seconds, of the long steps.  The build runs the whole suite,
# one test at a time: on a loaded 2-core machine that took over 20 minutes.
BUILD_TIMEOUT=${BUILD_TIMEOUT:-2700}
LINTIAN_TIMEOUT=${LINTIAN_TIMEOUT:-300}
APT_TIMEOUT=${APT_TIMEOUT:-600}

step() { echo "== build-deb: $*"; }
die() { echo "== build-deb: FAILED: $*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/build-deb.XXXXXX") || die "mktemp"
# mktemp makes it 0700; as root, the package's test suite runs the build
# tree's programs as nobody too (rpcd -u), who must reach them.
chmod 711 "$work" || die "chmod $work"
rpcd_pid=
installed=0
cleanup()
{
	if [ -n "$rpcd_pid" ]; then
		kill "$rpcd_pid" 2>/dev/null
		wait "$rpcd_pid" 2>/dev/null
	fi
	if [ "$installed" = 1 ] && [ "$keep" = 0 ]; then
		step "purging the packages"
		timeout "$APT_TIMEOUT" apt-get purge -y -qq rpcd rpcctl \
		    libproto-dev libproto0 >/dev/null 2>&1 ||
		    echo "== build-deb: purge failed" >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

root=0
[ "$(id -u)" = 0 ] && root=1
export DEBIAN_FRONTEND=noninteractive

# The tools; installed when missing and root.  The Build-Depends are
# checked once debian/ is in place.
need="dpkg-dev debhelper fakeroot lintian build-essential"
missing=
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$root" = 1 ] || die "install$missing first (or run as root)"
	step "installing$missing"
	# shellcheck disable=SC2086
	timeout "$APT_TIMEOUT" apt-get install -y -qq --no-install-recommends \
	    $missing >"$work/apt.log" 2>&1 ||
	{ timeout "$APT_TIMEOUT" apt-get update -qq >/dev/null 2>&1 &&
	    timeout "$APT_TIMEOUT" apt-get install -y -qq \
	    --no-install-recommends $missing >"$work/apt.log" 2>&1; } ||
	{ tail -n 20 "$work/apt.log"; die "apt-get install$missing"; }
fi

# 1. The tarball.
if [ -z "$tarball" ]; then
	[ -f Makefile ] || die "no tarball given and no configured tree here"
	step "make dist"
	make dist >"$work/dist.log" 2>&1 || { tail -n 20 "$work/dist.log"; die "make dist"; }
	tarball=$(ls -t rpcd-*.tar.gz | head -n 1)
fi
[ -f "$tarball" ] || die "no tarball $tarball"
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
base=$(basename "$tarball" .tar.gz)		# rpcd-0.1.0
version=${base#rpcd-}
step "building $base from $tarball"

# 2. Unpack, add debian/.
cp "$tarball" "$work/rpcd_$version.orig.tar.gz"
tar -xzf "$tarball" -C "$work" || die "cannot unpack $tarball"
[ -d "$work/$base" ] || die "$tarball does not unpack to $base/"
cp -R "$here/debian" "$work/$base/debian"
debver=$(cd "$work/$base" && dpkg-parsechangelog -S Version)
case $debver in
"$version"-*) ;;
*) die "debian/changelog is at $debver, the tarball at $version" ;;
esac

if ! (cd "$work/$base" && dpkg-checkbuilddeps) >"$work/deps.log" 2>&1; then
	[ "$root" = 1 ] || { cat "$work/deps.log"; die "missing Build-Depends"; }
	step "installing the Build-Depends"
	timeout "$APT_TIMEOUT" apt-get build-dep -y -qq "$work/$base" \
	    >"$work/apt.log" 2>&1 ||
	    { tail -n 20 "$work/apt.log"; die "apt-get build-dep"; }
fi

# 3. Build.
step "dpkg-buildpackage -us -uc -b (up to ${BUILD_TIMEOUT}s)"
opts=${DEB_BUILD_OPTIONS:-}
[ "$nocheck" = 1 ] && opts="$opts nocheck"
started=$(date +%s)
(cd "$work/$base" && DEB_BUILD_OPTIONS=$opts timeout "$BUILD_TIMEOUT" \
    dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1
status=$?
mkdir -p "$out" || die "cannot create $out"
cp "$work/build.log" "$out/"
if [ "$status" -ne 0 ]; then
	tail -n 40 "$work/build.log"
	die "dpkg-buildpackage exited $status (log: $out/build.log)"
fi
step "built in $(($(date +%s) - started))s"
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$work/build.log" | sed 's/^/   /'
changes=$(ls "$work"/rpcd_"$debver"_*.changes)
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
cp "$work"/*.deb "$changes" "$work"/*.buildinfo "$out/"
for deb in "$work"/*.deb; do
	printf '   %s\n' "$(basename "$deb")"
	dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print "      " $6 }'
done

# 4. Lintian.
step "lintian (up to ${LINTIAN_TIMEOUT}s)"
timeout "$LINTIAN_TIMEOUT" lintian --fail-on error --display-info \
    --tag-display-limit 0 "$changes" >"$out/lintian.txt" 2>&1
lintian_status=$?
sed 's/^/   /' "$out/lintian.txt"
count() { grep -c "^$1: " "$out/lintian.txt"; }
errors=$(count E)
step "lintian summary: $errors errors, $(count W) warnings," \
    "$(count I) info, $(count P) pedantic"
[ "$lintian_status" -eq 0 ] && [ "$errors" -eq 0 ] ||
    die "lintian reported errors (exit $lintian_status)"

# 5. Install and try.
if [ "$root" = 0 ]; then
	step "not root: packages built and checked, not installed"
	exit 0
fi
step "apt-get install ./*.deb"
installed=1
(cd "$work" && timeout "$APT_TIMEOUT" apt-get install -y -qq \
    --no-install-recommends ./*.deb) >"$work/install.log" 2>&1 ||
    { tail -n 20 "$work/install.log"; die "apt-get install of the .debs"; }
for f in /usr/sbin/rpcd /usr/bin/rpcctl /lib/systemd/system/rpcd.service \
    /lib/systemd/system/rpcd.socket /usr/include/rpcd/proto.h \
    /usr/share/bash-completion/completions/rpcctl; do
	[ -e "$f" ] || die "$f is not installed"
done
grep -q '^ExecStart=/usr/sbin/rpcd$' /lib/systemd/system/rpcd.service ||
    die "rpcd.service does not start /usr/sbin/rpcd"

step "starting the packaged /usr/sbin/rpcd on 127.0.0.1:0"
/usr/sbin/rpcd -l 127.0.0.1:0 2>"$work/rpcd.log" &
rpcd_pid=$!
addr=
tries=100
while [ "$tries" -gt 0 ]; do
	addr=$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9]*\).*/\1/p' \
	    "$work/rpcd.log" | head -n 1)
	[ -n "$addr" ] && break
	kill -0 "$rpcd_pid" 2>/dev/null || break
	sleep 0.1
	tries=$((tries - 1))
done
[ -n "$addr" ] || { cat "$work/rpcd.log"; die "rpcd did not start"; }
step "/usr/bin/rpcctl -S $addr ping"
timeout 20 /usr/bin/rpcctl -S "$addr" -t 5 ping -c 2 -i 0.1 ||
    die "rpcctl ping against the packaged rpcd"
timeout 20 /usr/bin/rpcctl -S "$addr" --json call ping '"deb"' |
    grep -q '"result": "deb"' || die "rpcctl call ping"

step "building the libproto(3) example against libproto-dev"
awk '/^\.Sh / { in_ex = ($2 == "EXAMPLES") }
    in_ex && /^\.Bd -literal/ { n++; inside = (n == 1); next }
    inside && /^\.Ed/ { inside = 0 }
    inside { gsub(/\\e/, "\\"); print }' \
    "$work/$base/man/libproto.3" >"$work/example.c"
# shellcheck disable=SC2046
cc -o "$work/example" "$work/example.c" \
    $(pkg-config --cflags --libs libproto) || die "the example does not build"
"$work/example" || die "the example fails"

kill "$rpcd_pid" && wait "$rpcd_pid"
status=$?
rpcd_pid=
[ "$status" -eq 0 ] || die "rpcd exited $status on SIGTERM"
step "ok: packages in $out"
