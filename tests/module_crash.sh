#!/bin/sh
# A module's handler that crashes under --prefork 2: the worker is
# replaced, the master's line names the method and module, and the other
# worker's connections keep being served (tests/module_crash_client.py).

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

module_client module_crash_client.py
