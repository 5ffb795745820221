#!/bin/sh
# Install into a staging DESTDIR and build a small program against the
# staged libproto through pkg-config: the header, the library and the .pc
# file must all be installed and agree.  Then a module that uses the worker's
# event loop builds through the staged rpcd-module.pc alone, links libevent
# and answers from a timer in rpcd.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

command -v pkg-config >/dev/null 2>&1 || skip_all "pkg-config not found"

stage=$TEST_DIR

$MAKE -C "$top_builddir" install DESTDIR="$stage/root" >"$stage/install.log" 2>&1
ok $? "make install DESTDIR=... succeeds"

pcdir=$(find "$stage/root" -name libproto.pc -exec dirname {} \; | head -n 1)
ok_test "libproto.pc is installed" test -n "$pcdir"
ok_test "the header is installed as rpcd/proto.h" \
    test -n "$(find "$stage/root" -path '*/include/rpcd/proto.h')"

cat >"$stage/t.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include <rpcd/proto.h>
int main(void) {
	unsigned char buf[64];
	uint32_t len;
	size_t n = proto_frame_encode(buf, sizeof buf, "{\"in\": \"ping\"}", 14);
	int s = proto_frame_decode(buf, n, PROTO_MAX_FRAME_DEFAULT, &len);
	printf("%zu %d %u %s\n", n, s == PROTO_FRAME_COMPLETE, len, proto_version());
	return (s == PROTO_FRAME_COMPLETE && len == 14 && buf[0] == 14 ? 0 : 1);
}
PROG

flags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$stage/root" \
    pkg-config --cflags --libs libproto)
ok $? "pkg-config --cflags --libs libproto: $flags"

# shellcheck disable=SC2086
$CC $CFLAGS -o "$stage/t" "$stage/t.c" $flags $LDFLAGS 2>"$stage/cc.log"
ok $? "a program builds against the staged install" || cat "$stage/cc.log" | diag_file

libdir=$(echo "$flags" | sed -n 's/.*-L\([^ ]*\).*/\1/p')
out=$(LD_LIBRARY_PATH="$libdir" DYLD_LIBRARY_PATH="$libdir" "$stage/t")
ok $? "it encodes and decodes a frame with the staged library: $out"

syms=$(nm -D --defined-only "$libdir"/libproto.so 2>/dev/null | awk '$2 == "T" {print $3}' | grep -v '^proto_')
if command -v nm >/dev/null 2>&1 && test -f "$libdir/libproto.so"; then
	ok_test "only proto_* symbols are exported" test -z "$syms"
	# The Debian package's symbols file lists each, or lintian fails.
	is "$(nm -D --defined-only "$libdir"/libproto.so |
	    awk '$2 == "T" {print $3}' | sort | tr '\n' ' ')" \
	    "$(sed -n 's/^ \(proto_[a-z_]*\)@Base .*/\1/p' \
	    "$top_srcdir/packaging/debian/libproto0.symbols" | sort |
	    tr '\n' ' ')" "packaging/debian/libproto0.symbols lists every one"
else
	skip "no nm or no libproto.so to inspect" 2
fi

# rpcd-module.pc: module.h hands a module an event_base, so the flags of
# libevent come with it; tests/testmod.c arms timers on it.
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$stage/root"
mflags=$(pkg-config --cflags --libs rpcd-module)
ok $? "pkg-config --cflags --libs rpcd-module: $mflags"
eflags=$(pkg-config --cflags --libs libevent)
missing=
for f in $eflags; do
	case " $mflags " in
	*" $f "*) ;;
	*) missing="$missing $f" ;;
	esac
done
ok_test "they include libevent's: $eflags" test -z "$missing"
# shellcheck disable=SC2086
$CC $CFLAGS -shared -fPIC -o "$stage/mod.so" "$top_srcdir/tests/testmod.c" \
    $mflags $LDFLAGS 2>"$stage/mod.log"
ok $? "a module calling event_* builds with them" || diag_file <"$stage/mod.log"
ok_test "and links libevent" sh -c \
    "readelf -d '$stage/mod.so' | grep -q 'NEEDED.*libevent'"
chmod 0755 "$stage/mod.so"
if rpcd_start -m "$stage/mod.so"; then
	is "$("$RPCCTL" -S "$RPCD_ADDR" --json call later '[20, "timer"]')" \
	    '{"out": "later", "result": "timer"}' "rpcd loads it; it answers from a timer of its event_base"
	rpcd_stop
else
	ok 1 "rpcd loads it"
fi

done_testing
