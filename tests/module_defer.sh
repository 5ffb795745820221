#!/bin/sh
# Calls a module answers later, from the worker's event loop: replies in
# request order on a connection, other connections served meanwhile, and
# --max-inflight (tests/module_defer_client.py).

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

module_client module_defer_client.py
