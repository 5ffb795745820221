#!/bin/sh
# contrib/zk/rpcd_discovery.py, the Python discovery client, against a
# real ZooKeeper and 3, then 4 rpcd registered with --register on
# ephemeral ports (tests/zk_contrib_client.py): it finds them all and
# spreads calls round robin, takes a member registered later, loses no
# call when a member is stopped by SIGTERM (with --drain-delay) under
# load, and sends again to the others the calls a member killed by
# SIGKILL held.  Skipped without ZooKeeper, kazoo or a build with
# ZooKeeper, except in CI (CI=true).

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

if ! "$RPCD" --register zk://127.0.0.1:1/probe -n >/dev/null 2>&1; then
	[ "${CI:-}" = true ] &&
	    bail_out "rpcd built without ZooKeeper, and CI=true"
	skip_all "rpcd built without ZooKeeper"
fi
. "$top_srcdir/tests/zk_lib.sh"
zk_require
zk_start

cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/testmod.so" ||
    bail_out "no testmod.so: make check builds it"
chmod 0755 "$TEST_DIR/testmod.so"
PYTHONPATH=$top_srcdir/tests:$top_srcdir/contrib/zk \
    "$top_builddir/libtool" --mode=execute "$PYTHON3" \
    "$top_srcdir/tests/zk_contrib_client.py" "$RPCD" \
    "$TEST_DIR/testmod.so" "$ZK_HOSTS" "$TEST_DIR"
status=$?
# The rpcd it started, if it could not stop them itself.
pids="$pids $(cat "$TEST_DIR/pids" 2>/dev/null)"
exit $status
