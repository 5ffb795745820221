#!/bin/sh
# HTTP listeners over raw sockets: tests/http_client.py, every byte sent
# and answered seen (JSON-RPC 2.0, the routes, CORS, keep-alive and order,
# the hostile battery, 2,000 idle connections, stats, a drain).

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

module_client http_client.py
