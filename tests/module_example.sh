#!/bin/sh
# The example module of rpcd-module(3) compiles against the installed
# header, found through the installed rpcd-module.pc, loads into rpcd
# and answers what the page says it answers.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

command -v pkg-config >/dev/null 2>&1 || skip_all "pkg-config not found"
page=$top_srcdir/man/rpcd-module.3
stage=$TEST_DIR/stage

$MAKE -C "$top_builddir" install DESTDIR="$stage" >"$TEST_DIR/install.log" 2>&1
ok $? "make install DESTDIR=... succeeds" || diag_file <"$TEST_DIR/install.log"
pcdir=$(find "$stage" -name rpcd-module.pc -exec dirname {} \; | head -n 1)
ok_test "rpcd-module.pc is installed" test -n "$pcdir"
ok_test "the header is installed as rpcd/module.h" \
    test -n "$(find "$stage" -path '*/include/rpcd/module.h')"
ok_test "rpcd-module(3) is installed" \
    test -n "$(find "$stage" -path '*/man3/rpcd-module.3')"
moduledir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=moduledir rpcd-module)
case $moduledir in
*/lib*/rpcd/modules) ok 0 "the .pc names the module directory: $moduledir" ;;
*) ok 1 "the .pc names the module directory: $moduledir" ;;
esac

example_block "$page" 1 >"$TEST_DIR/hello.c"
example_block "$page" 3 >"$TEST_DIR/expected"
ok_test "the page has an example module" grep -q 'rpcd_module = {' "$TEST_DIR/hello.c"
cflags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$stage" \
    pkg-config --cflags rpcd-module)
ok $? "pkg-config --cflags rpcd-module: $cflags"
# shellcheck disable=SC2086
$CC $CFLAGS -shared -fPIC -o "$TEST_DIR/hello.so" "$TEST_DIR/hello.c" \
    $cflags $LDFLAGS >"$TEST_DIR/cc.log" 2>&1
ok $? "the example compiles against the installed header" || diag_file <"$TEST_DIR/cc.log"
chmod 0755 "$TEST_DIR/hello.so"

rpcd_start -m "$TEST_DIR/hello.so" || bail_out "rpcd -m hello.so did not start"
"$RPCCTL" -S "$RPCD_ADDR" call hello '"you"' >"$TEST_DIR/out"
is "$(cat "$TEST_DIR/out")" "$(cat "$TEST_DIR/expected")" \
    "it loads and answers what the page says"
rpcd_stop
done_testing
