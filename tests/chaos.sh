#!/bin/sh
# rpcd -P 3 under reconnecting clients and random SIGHUP, SIGKILL of
# workers and SIGUSR1 bursts, then SIGTERM: see tests/chaos_client.py.
# CHAOS_SECONDS sets how long the signals go on (default 6).

. "${top_srcdir:-.}/tests/tap.sh"

[ -n "${PYTHON3:-}" ] && [ -x "$PYTHON3" ] || PYTHON3=$(command -v python3)
[ -n "$PYTHON3" ] || skip_all "python3 not found"
[ -r /proc/self/task/$$/children ] || skip_all "no /proc/PID/task/PID/children"

PYTHONPATH=$top_srcdir/tests exec "$top_builddir/libtool" --mode=execute \
    "$PYTHON3" "$top_srcdir/tests/chaos_client.py" \
    "$top_builddir/server/rpcd" "$top_builddir/client/rpcctl" \
    "${CHAOS_SECONDS:-6}"
