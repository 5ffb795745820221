#!/bin/sh
# rpcd -P 3 under reconnecting clients and random SIGHUP, SIGKILL of
# workers and SIGUSR1 bursts, then SIGTERM: see tests/chaos_client.py.
# CHAOS_SECONDS sets how long the signals go on (default 6).

. "${top_srcdir:-.}/tests/tap.sh"

need_python3
[ -r /proc/self/task/$$/children ] || skip_all "no /proc/PID/task/PID/children"

PYTHONPATH=$top_srcdir/tests exec "$top_builddir/libtool" --mode=execute \
    "$PYTHON3" "$top_srcdir/tests/chaos_client.py" \
    "$top_builddir/server/rpcd" "$top_builddir/client/rpcctl" \
    "${CHAOS_SECONDS:-6}"
