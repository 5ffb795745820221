#!/bin/sh
# Hostile clients of --metrics-listen: see tests/metrics_hostile_clients.py.
# libtool runs it with the real rpcd, so that the CPU time it reads is
# rpcd's own.

. "${top_srcdir:-.}/tests/tap.sh"

need_python3
PYTHONPATH=$top_srcdir/tests exec "$top_builddir/libtool" --mode=execute \
    "$PYTHON3" "$top_srcdir/tests/metrics_hostile_clients.py" \
    "$top_builddir/server/rpcd"
