#!/bin/sh
# Allocation failures at each point of a run of rpcd: see tests/allocfail_sweep.py.
# libtool runs it with the real rpcd, so that the shim is preloaded into
# rpcd alone, not into libtool's wrapper script.

. "${top_srcdir:-.}/tests/tap.sh"

need_python3
SHIM=$top_builddir/tests/.libs/alloc_shim.so
[ -f "$SHIM" ] || skip_all "no allocation shim at $SHIM"

PYTHONPATH=$top_srcdir/tests exec "$top_builddir/libtool" --mode=execute \
    "$PYTHON3" "$top_srcdir/tests/allocfail_sweep.py" "$top_builddir/server/rpcd" \
    "$(cd "$(dirname "$SHIM")" && pwd)/alloc_shim.so"
