#!/bin/sh
# A module's handler that crashes under --prefork 2: the worker is
# replaced, the master's line names the method and module, and the other
# worker's connections keep being served (tests/module_crash_client.py).

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

[ -n "${PYTHON3:-}" ] && [ -x "$PYTHON3" ] || PYTHON3=$(command -v python3)
[ -n "$PYTHON3" ] || skip_all "python3 not found"
# A copy with the mode rpcd wants, whatever the build's umask.
cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/testmod.so" ||
    bail_out "no testmod.so: make check builds it"
chmod 0755 "$TEST_DIR/testmod.so"

PYTHONPATH=$top_srcdir/tests "$top_builddir/libtool" --mode=execute \
    "$PYTHON3" "$top_srcdir/tests/module_crash_client.py" "$RPCD" \
    "$TEST_DIR/testmod.so"
