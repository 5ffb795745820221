#!/bin/sh
# HTTP listeners (,http): the battery of tests/http_client.py over raw
# sockets; then curl, Python's standard library and a JSON-RPC 2.0
# client library from Debian (python3-jsonrpclib-pelix), each as a user
# would call rpcd, over HTTP and HTTPS.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

module_client http_client.py || bail_out "http_client.py failed to run"
