#!/bin/sh
# HTTP listeners (,http) as users call them (the raw-socket battery is
# tests/http_battery.sh): curl, README's Python client of the standard
# library, and a
# JSON-RPC 2.0 client library from Debian (python3-jsonrpclib-pelix),
# each as a user would call rpcd; HTTPS with a client certificate and the
# access rules; a bad --http-cors; --prefork.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3
D=$TEST_DIR
cp "$top_builddir/tests/.libs/testmod.so" "$D/testmod.so" &&
    chmod 0755 "$D/testmod.so" || bail_out "no testmod.so: make check builds it"
MOD="-m $D/testmod.so"

# status URL [CURL ARGS...]: the status and the body curl gets.
status()
{
	url=$1
	shift
	curl -s -w ' %{http_code}' "$@" "$url"
}

### curl, as README.md shows it.
rpcd_start $MOD -l 127.0.0.1:0,http -l 127.0.0.1:0 ||
    bail_out "rpcd did not start"
U=http://$RPCD_ADDR
if command -v curl >/dev/null; then
	is "$(curl -s --json \
	    '{"jsonrpc":"2.0","method":"ping","params":[1],"id":1}' "$U/")" \
	    '{"jsonrpc":"2.0","result":[1],"id":1}' "curl --json, JSON-RPC"
	is "$(curl -s --json '["hello"]' "$U/call/ping")" '["hello"]' \
	    "curl --json to /call/ping: the result as the body"
	is "$(status "$U/call/nosuch" -X POST)" \
	    '{"code":"unknown_method","message":"no such method"} 404' \
	    "curl to /call/nosuch: 404 and the error"
	is "$(curl -s -d '{}' "$U/call/echo" -w ' %{http_code}')" \
	    '{"code":"unsupported_media_type","message":"the body must be JSON: Content-Type: application/json"} 415' \
	    "curl -d without a JSON type: 415"
	is "$(curl -s "$U/methods" | tr -d ' ' | grep -o '"name":"[a-z]*"' |
	    head -n 3 | tr '\n' ' ')" '"name":"ping" "name":"methods" "name":"stats" ' \
	    "curl $U/methods"
	is "$(status "$U/ready")" '{"ready": true} 200' "curl $U/ready"
	is "$(curl -s --json '[1]' "$U/call/echo" -w ' %{num_connects}\n' \
	    --next --json '[2]' "$U/call/echo" -w ' %{num_connects}\n')" \
	    '[1] 1
[2] 0' "two requests in one curl: the second on the same connection"
else
	[ "${CI:-}" = true ] && bail_out "curl not found, and CI=true"
	skip "curl not found: apt-get install curl" 7
fi

### README's client: Python's standard library only.
awk '/<!-- http-python -->/ { on = 1; next }
    on && /^```/ { if (++fence == 2) exit; next }
    on { print }' "$top_srcdir/README.md" >"$D/client.py"
is "$(wc -l <"$D/client.py")" 10 "README's Python client is 10 lines"
is "$("$PYTHON3" "$D/client.py" "$U" ping 1 2>&1)" "[1]" \
    "and it calls ping"
is "$("$PYTHON3" "$D/client.py" "$U" nosuch 2>&1 | tail -n 1)" \
    "RuntimeError: {'code': -32601, 'message': 'no such method', 'data': 'unknown_method'}" \
    "and raises an error with its code and word"

### A JSON-RPC 2.0 client library from Debian, on Debian's python3.
PY=/usr/bin/python3
if [ -x "$PY" ] && "$PY" -c 'import jsonrpclib' 2>/dev/null; then
	out=$("$PY" - "$U/" <<'PYEOF' 2>&1
import sys
import jsonrpclib
s = jsonrpclib.ServerProxy(sys.argv[1])
print(s.ping(1, "two"))
print(s.echo(a=1, b=[2]))
batch = jsonrpclib.MultiCall(s)
batch.ping(3)
batch.echo("x")
batch.later(20, "late")
print(list(batch()))
s._notify.ping(4)
try:
    s.nosuch()
except jsonrpclib.jsonrpc.ProtocolError as e:
    print("error", e.args[0][0], e.args[0][1])
print(s.later(30, "deferred"))
PYEOF
)
	is "$out" "[1, 'two']
{'a': 1, 'b': [2]}
[[3], ['x'], 'late']
error -32601 no such method
deferred" "jsonrpclib-pelix: calls by position and by name, a batch, a notification, an error, a deferred call"
else
	[ "${CI:-}" = true ] && bail_out "python3-jsonrpclib-pelix not found, and CI=true"
	skip "python3-jsonrpclib-pelix not found: apt-get install python3-jsonrpclib-pelix" 1
fi
rpcd_stop
is $? 0 "rpcd exits 0"

### HTTPS, a client certificate, and the access rules over HTTP.
if grep -q '^#define HAVE_TLS 1' "$top_builddir/config.h" &&
    command -v openssl >/dev/null && command -v curl >/dev/null; then
	ca ca && cert server ca rpcd 'DNS:localhost,IP:127.0.0.1' &&
	    cert ops ca ops 'DNS:ops.example' ||
	    bail_out "openssl cannot make the test certificates"
	rpcd_start $MOD -l 127.0.0.1:0,http,tls --tls-cert "$D/server.pem" \
	    --tls-key "$D/server.key" --tls-ca "$D/ca.pem" \
	    --tls-verify optional --allow 'ping,methods' \
	    --allow 'whoami,echo cn=ops' || bail_out "rpcd did not start"
	S="https://$RPCD_ADDR"
	T="--cacert $D/ca.pem"
	is "$(curl -s $T --json '[7]' "$S/call/ping")" '[7]' \
	    "HTTPS: curl calls ping"
	is "$(status "$S/call/echo" $T --json '[7]')" \
	    '{"code":"forbidden","message":"not allowed to call echo"} 403' \
	    "echo without the certificate: 403 forbidden"
	is "$(curl -s $T --json '{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}' "$S/")" \
	    '{"jsonrpc":"2.0","error":{"code":-32004,"message":"not allowed to call echo","data":"forbidden"},"id":1}' \
	    "and over JSON-RPC: -32004, forbidden"
	is "$(curl -s $T --cert "$D/ops.pem" --key "$D/ops.key" --json '[8]' \
	    "$S/call/echo")" '[8]' "with the ops certificate: allowed"
	curl -s $T --cert "$D/ops.pem" --key "$D/ops.key" -X POST \
	    "$S/call/whoami" | grep -q '"subject": "CN=ops"'
	ok $? "and whoami, a module's caller(), sees its subject"
	is "$(curl -s $T "$S/methods" | grep -o '"name": "[a-z]*"' |
	    tr '\n' ' ')" '"name": "ping" "name": "methods" ' \
	    "GET /methods lists only what the caller may call"
	rpcd_stop
else
	skip "no TLS, openssl or curl" 6
fi

### A bad --http-cors; --prefork.
"$RPCD" -n --http-cors 'example.com' >/dev/null 2>"$D/err"
is $? 2 "--http-cors without a scheme: a usage error, exit 2"
ok_test "saying what an origin is" grep -q 'not an origin' "$D/err"
rpcd_start $MOD -P 2 -l 127.0.0.1:0 -l 127.0.0.1:0,http --drain-delay 5 ||
    bail_out "rpcd did not start"
wait_workers 2 || bail_out "no 2 workers"
U=http://$(echo "$RPCD_ADDRS" | sed -n 2p)
n=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(curl -s --json "[$i]" "$U/call/echo")" = "[$i]" ] && n=$((n + 1))
done
is "$n" 10 "--prefork 2: 10 calls over HTTP answered"
kill -TERM "$RPCD_PID"
# Every worker says it, whichever a connection reaches.
not_ready() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$U/ready")" = 503 ] &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$U/ready")" = 503 ] &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$U/ready")" = 503 ]
}
wait_for 30 not_ready
ok $? "SIGTERM with --drain-delay: the workers' GET /ready says 503 at once"
is "$(curl -s --json '[11]' "$U/call/echo")" "[11]" \
    "while they still answer calls"
rpcd_stop
is $? 0 "rpcd exits 0"
done_testing
