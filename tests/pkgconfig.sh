#!/bin/sh
# Install into a staging DESTDIR and build a small program against the
# staged libproto through pkg-config: the header, the library and the .pc
# file must all be installed and agree.

. "${top_srcdir:-.}/tests/tap.sh"

command -v pkg-config >/dev/null 2>&1 || skip_all "pkg-config not found"

stage=$(mktemp -d) || bail_out "mktemp"
trap 'rm -rf "$stage"' EXIT

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
else
	skip "no nm or no libproto.so to inspect"
fi

done_testing
