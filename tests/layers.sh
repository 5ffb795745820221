#!/bin/sh
# Calls go one way through rpcd's layers and round no circle, in rpcd and
# in rpcctl: the built objects' symbols, read with nm (tests/layers_graph.py).

. "${top_srcdir:-.}/tests/tap.sh"

need_python3
command -v nm >/dev/null || skip_all "no nm (binutils)"

PYTHONPATH=$top_srcdir/tests exec "$PYTHON3" "$top_srcdir/tests/layers_graph.py" \
    "$top_srcdir" "$top_builddir"
