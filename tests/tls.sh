#!/bin/sh
# TLS listeners, with certificates made here by openssl(1): a ping over
# TLS; mutual TLS that takes a good client certificate and refuses none,
# an expired one and one from another CA; rpcctl refusing a certificate
# for another host unless --insecure; a plain client on the TLS port and
# a TLS client on the plain port closed at once; a handshake that stalls
# dropped at --tls-handshake-timeout; the hostile inputs of
# server_badinput.sh answered the same inside TLS; SIGHUP reading the
# certificates again while a connection on the old ones keeps working,
# and a broken certificate keeping the old ones; replies the kernel holds
# back arriving whole and in order, and a client that does not read them
# paused at --max-output; with --prefork, a reload rolled back keeping
# the old ones for the workers respawned after it.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

grep -q '^#define HAVE_TLS 1' "$top_builddir/config.h" ||
    skip_all "built without TLS"
command -v openssl >/dev/null || skip_all "no openssl command"

D=$TEST_DIR
C=$RPCCTL

ca ca && ca otherca &&
    cert server ca rpcd-one 'DNS:localhost,IP:127.0.0.1' &&
    cert server2 ca rpcd-two 'DNS:other.example' &&
    cert client ca client 'DNS:client' &&
    cert expired ca client 'DNS:client' -1 &&
    cert stranger otherca client 'DNS:client' ||
    bail_out "openssl cannot make the test certificates"

# The subject of the certificate the server at port $1 shows now.
subject()
{
	openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null |
	    openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}
handshake_failures()
{
	"$C" --tls --cacert "$D/ca.pem" -S "$T" --json stats |
	    grep -o '"total": {[^}]*' |
	    sed 's/.*"tls_handshake_failures": \([0-9]*\).*/\1/'
}

cp "$D/server.pem" "$D/live.pem"
cp "$D/server.key" "$D/live.key"
rpcd_start -v -l 127.0.0.1:0,tls -l 127.0.0.1:0 --tls-cert "$D/live.pem" \
    --tls-key "$D/live.key" --tls-handshake-timeout 1 \
    --metrics-listen 127.0.0.1:0 || bail_out "rpcd did not start"
T=$(echo "$RPCD_ADDRS" | sed -n 1p)
P=$(echo "$RPCD_ADDRS" | sed -n 2p)
TP=${T##*:}
ok_test "the TLS listener is logged as such" \
    grep -q "listening on $T (TLS)" "$RPCD_LOG"

is "$("$C" --tls --cacert "$D/ca.pem" -S "$T" call ping '"tls"')" '"tls"' \
    "a ping over TLS, the certificate checked"
is "$("$C" --tls --cacert "$D/ca.pem" -S "localhost:$TP" call ping 1)" 1 \
    "by host name too"
"$C" --tls -S "$T" ping >/dev/null 2>"$D/err"
is $? 3 "a certificate from an unknown CA is refused"
"$C" --tls -S "$T" --cacert "$D/otherca.pem" ping >/dev/null 2>&1
is $? 3 "and from a CA not given by --cacert"

# Plain text on the TLS port, TLS on the plain port: closed at once, by
# their failures, not at the handshake deadline.
is "$(wire -t 5 "$T" 'j:{"in": "ping"}' 2>/dev/null | tr -d '\n')" "[reset]" \
    "a plain client on the TLS port is closed"
"$C" --tls --insecure -S "$P" ping >/dev/null 2>"$D/err"
is $? 3 "a TLS client on the plain port fails"
ok_test "at once, not at --tls-handshake-timeout" \
    eval "! grep -q 'TLS handshake failed: timed out' \"\$RPCD_LOG\""
ok_test "the failed handshake is a debug line" \
    grep -q "TLS handshake failed: .*wrong version number" "$RPCD_LOG"
ok_test "inside TLS the plain port's sniffing does not apply" \
    test "$(grep -c 'peer speaks' "$RPCD_LOG")" -eq 1

# A peer that stops in mid-handshake: dropped at the deadline, before
# wire's own timeout (which would print [timeout]).
start=$(date +%s%3N)
is "$(wire -t 30 "$T" x:16030100 2>/dev/null)" "[closed]" \
    "a stalled handshake is dropped"
ok_test "at --tls-handshake-timeout (1 s), not before" \
    test $(($(date +%s%3N) - start)) -ge 1000
ok_test "logged as a timeout" \
    grep -q "TLS handshake failed: timed out" "$RPCD_LOG"
is "$(handshake_failures)" 4 \
    "stats counts the failed handshakes (two refused CAs, these two)"
M=$(sed -n 's|.*serving metrics on \(http://[^ ]*/metrics\)$|\1|p' "$RPCD_LOG")
[ -n "${PYTHON3:-}" ] && [ -x "$PYTHON3" ] || PYTHON3=$(command -v python3)
is "$("$PYTHON3" -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1]).read().decode())' "$M" |
    sed -n 's/^rpcd_client_errors_total{kind="tls_handshake"} //p')" 4 \
    "and so do the metrics"

# The hidden inputs of server_badinput.sh, after the handshake.
hidden_inputs_check "TLS: " "$T" -T
is "$(wire -T -t 5 "$T" h:2000000 2>/dev/null | tail -n 1)" "[closed]" \
    "TLS: a frame over --max-frame: closed after its error"
is "$(wire -T -t 1 "$T" x:160301007a0100007603 2>/dev/null)" "[timeout]" \
    "TLS: bytes like a ClientHello are waited for as a frame, not sniffed"
ok_test "TLS: rpcd still answers" ping_ok "$P"

# SIGHUP: new certificates for new connections, the old for open ones.
is "$(subject "$TP")" rpcd-one "before SIGHUP: the first certificate"
"$C" --tls --cacert "$D/ca.pem" -S "$T" ping -c 30 -i 0.1 \
    >"$D/long" 2>&1 &
long=$!
wait_for 50 grep -q 'seq=0' "$D/long"
cp "$D/server2.pem" "$D/live.pem"
cp "$D/server2.key" "$D/live.key"
kill -HUP "$RPCD_PID"
wait_for 50 grep -q "TLS certificates read again" "$RPCD_LOG"
ok $? "SIGHUP reads the certificates again"
is "$(subject "$TP")" rpcd-two "a new connection sees the new certificate"
"$C" --tls --cacert "$D/ca.pem" -S "$T" ping >/dev/null 2>"$D/err"
is $? 3 "rpcctl refuses a certificate for another host"
ok_test "and says why" grep -q "mismatch" "$D/err"
is "$("$C" --tls --insecure -S "$T" call ping 2)" 2 "unless --insecure"
wait "$long"
is $? 0 "a connection opened on the old certificate kept working"
ok_test "every one of its 30 pings answered" \
    grep -q '30 sent, 30 received' "$D/long"

echo "not a certificate" >"$D/live.pem"
kill -HUP "$RPCD_PID"
wait_for 50 grep -q "keeping the certificates in use" "$RPCD_LOG"
ok $? "a certificate that cannot be read is logged and not used"
is "$(subject "$TP")" rpcd-two "the certificates in use stay"
rpcd_stop
is $? 0 "rpcd exits 0"

# Replies the kernel holds back: a batch of 200 replies of 64 KB, read
# while it is sent, is past --max-output, so replies queue behind records
# TLS could not send yet; and a client that never reads is paused there.
rpcd_start -v -l 127.0.0.1:0,tls --tls-cert "$D/server.pem" \
    --tls-key "$D/server.key" --max-output 65536 --max-frame 100000 ||
    bail_out "rpcd did not start"
T=$RPCD_ADDR
big_batch_check "TLS: " "$C" --tls --cacert "$D/ca.pem" -S "$T"
big=$(printf '%01000d' 0)
"$WIRE" -T -w -t 30 -r 20000 "$T" \
    "j:{\"in\": \"ping\", \"params\": \"$big\"}" >/dev/null 2>&1 &
flood=$!
wait_for 100 grep -q "not reading its replies: pausing" "$RPCD_LOG"
ok $? "TLS: a client that does not read its replies is paused"
is "$("$C" --tls --cacert "$D/ca.pem" -S "$T" call ping 3)" 3 \
    "TLS: others are served meanwhile"
kill "$flood"
wait "$flood" 2>/dev/null
rpcd_stop
is $? 0 "rpcd exits 0"

# Past --max-conns a TLS client gets its busy reply too: after the
# handshake, which the refused connection still goes through.
rpcd_start -v -l 127.0.0.1:0,tls --tls-cert "$D/server.pem" \
    --tls-key "$D/server.key" --max-conns 1 || bail_out "rpcd did not start"
T=$RPCD_ADDR
"$WIRE" -T -w -t 30 "$T" >/dev/null 2>&1 &
holder=$!
wait_for 100 grep -q 'TLS handshake done' "$RPCD_LOG"
out=$(wire -T -t 10 "$T" 'j:{"in": "ping", "params": 1}' 2>/dev/null)
is "$(echo "$out" | head -n 1)" \
    '{"out": "error", "result": {"code": "busy", "message": "server busy: try again later"}}' \
    "TLS: a client past --max-conns 1 is answered busy"
# The ping it sent is never read, so the close may come as a reset.
ok_test "then closed" test -n \
    "$(echo "$out" | sed -n '2{/^\[closed\]$/p;/^\[reset\]$/p}')"
# A refused client whose handshake fails counts as any failed handshake.
is "$(wire -t 5 "$T" 'j:{"in": "ping"}' 2>/dev/null | tr -d '\n')" \
    "[reset]" "a plain client past --max-conns on the TLS port is closed"
kill "$holder"
wait "$holder" 2>/dev/null
# stats is refused busy until rpcd has seen the holder go.
failures_are() { [ "$(handshake_failures 2>/dev/null)" = "$1" ]; }
wait_for 100 failures_are 1
is "$(handshake_failures)" 1 "and counted as a failed handshake"
rpcd_stop
is $? 0 "rpcd exits 0"

# Behind a proxy (,tls,proxy): the PROXY header comes in clear, then the
# handshake, as HAProxy sends them in TCP mode.  proxied HEX [split|cut]:
# send the bytes HEX, in two writes 0.2 s apart with split, then ping over
# TLS; print the reply, or [failed] if the handshake or the ping did not
# go.  With cut, send the first 10 bytes only, then end of file.
proxied()
{
	"$PYTHON3" - "$T" "$@" <<'EOF_PY'
import socket, ssl, struct, sys, time
host, port = sys.argv[1].rsplit(":", 1)
header = bytes.fromhex(sys.argv[2])
s = socket.create_connection((host, int(port)), timeout=5)
if len(sys.argv) > 3:
    s.sendall(header[:10])
    if sys.argv[3] == "cut":
        s.shutdown(socket.SHUT_WR)
        print("[closed]" if s.recv(1) == b"" else "[not closed]")
        sys.exit(0)
    time.sleep(0.2)
    header = header[10:]
s.sendall(header)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    t = ctx.wrap_socket(s)
    body = b'{"in": "ping", "params": "via proxy"}'
    t.sendall(struct.pack("<I", len(body)) + body)
    f = t.makefile("rb")
    n = struct.unpack("<I", f.read(4))[0]
    print(f.read(n).decode())
except (OSError, ssl.SSLError, struct.error):
    print("[failed]")
EOF_PY
}
# total NAME: the total of counter NAME in the stats of the rpcd on $P.
total()
{
	"$C" -S "$P" --json stats | grep -o '"total": {[^}]*}' |
	    sed "s/.*\"$1\": \([0-9]*\).*/\1/"
}
need_python3
rpcd_start -v -l 127.0.0.1:0,tls,proxy -l 127.0.0.1:0 \
    --tls-cert "$D/server.pem" --tls-key "$D/server.key" \
    --tls-handshake-timeout 2 ||
    bail_out "rpcd did not start"
T=$(echo "$RPCD_ADDRS" | sed -n 1p)
P=$(echo "$RPCD_ADDRS" | sed -n 2p)
ok_test "a tls,proxy listener is logged as both" \
    grep -q "listening on $T (TLS) (PROXY protocol header first)" "$RPCD_LOG"
SIG2=0d0a0d0a000d0a515549540a
# v2 PROXY TCP4 from 192.0.2.7:4660, with a NOOP and a UNIQUE_ID TLV.
V2=${SIG2}21110016c00002077f00000112341f9004000361626305000178
PONG='{"out": "pong", "result": "via proxy"}'
is "$(proxied "$V2")" "$PONG" "tls,proxy: a v2 header, then TLS: answered"
wait_for 50 grep -q "PROXY v2: client 192.0.2.7:4660" "$RPCD_LOG"
ok $? "tls,proxy: the client is the header's"
V1=$(printf 'PROXY TCP4 192.0.2.9 127.0.0.1 5555 8080\r\n' | od -An -tx1 |
    tr -d ' \n')
is "$(proxied "$V1" split)" "$PONG" \
    "tls,proxy: a v1 header in two pieces: answered"
wait_for 50 grep -q "PROXY v1: client 192.0.2.9:5555" "$RPCD_LOG"
ok $? "tls,proxy: the client is the v1 header's"
is "$(total proxy_errors)" 0 "tls,proxy: good headers: proxy_errors 0"
is "$(proxied "")" "[failed]" "tls,proxy: TLS with no header: closed"
is "$(proxied "$(printf 'GET / HTTP/1.0\r\n\r\n' | od -An -tx1 |
    tr -d ' \n')")" "[failed]" "tls,proxy: a bad header: closed"
is "$(proxied "$V2" cut)" "[closed]" "tls,proxy: a header cut short: closed"
is "$(total proxy_errors)" 3 "tls,proxy: all three counted in proxy_errors"
ok_test "tls,proxy: with a debug line" \
    grep -q "bad PROXY header: no PROXY signature" "$RPCD_LOG"
ok_test "tls,proxy: one for the header cut short" \
    grep -q "bad PROXY header: truncated" "$RPCD_LOG"
is "$(total tls_handshake_failures)" 0 "tls,proxy: not as failed handshakes"
is "$(wire -t 20 "$T")" "[closed]" \
    "tls,proxy: no header by the handshake's deadline: closed"
is "$(total proxy_errors) $(total tls_handshake_failures)" "4 0" \
    "tls,proxy: a missing header, as on a plain listener"
ok_test "tls,proxy: logged as timed out" \
    grep -q "bad PROXY header: timed out" "$RPCD_LOG"
rpcd_stop
is $? 0 "rpcd exits 0"

# Mutual TLS, with --prefork: the master reads the files.
rpcd_start -P 2 -l 127.0.0.1:0,tls --tls-cert "$D/server.pem" \
    --tls-key "$D/server.key" --tls-ca "$D/ca.pem" --tls-verify require ||
    bail_out "rpcd did not start"
T=$RPCD_ADDR
M="$C --tls --cacert $D/ca.pem -S $T"
is "$($M --cert "$D/client.pem" --key "$D/client.key" call ping 1)" 1 \
    "mutual TLS: a good client certificate is accepted"
$M call ping 1 >/dev/null 2>&1
is $? 3 "no client certificate is refused"
$M --cert "$D/expired.pem" --key "$D/expired.key" call ping 1 >/dev/null 2>&1
is $? 3 "an expired client certificate is refused"
$M --cert "$D/stranger.pem" --key "$D/stranger.key" call ping 1 \
    >/dev/null 2>&1
is $? 3 "a client certificate from another CA is refused"
$M --cert "$D/client.pem" --key "$D/client.key" bench -n 2000 -c 4 -P 16 \
    >"$D/bench" 2>&1
ok_test "rpcctl bench --tls with a client certificate" sh -c "
    grep -q '^  2000 requests completed in ' '$D/bench' &&
    grep -q '^  0 errors\$' '$D/bench'"
rpcd_stop
is $? 0 "rpcd exits 0"

# A reload whose new worker fails at start, in the test module's
# worker_init(), is rolled back: a worker respawned after it has the
# certificates the old generation runs with, not those the reload read.
cp "$top_builddir/tests/.libs/testmod.so" "$D/testmod.so" &&
    chmod 0755 "$D/testmod.so" || bail_out "no testmod.so: make check builds it"
cp "$D/server.pem" "$D/live.pem"
cp "$D/server.key" "$D/live.key"
printf 'prefork 1\ntls-cert %s\ntls-key %s\n' "$D/live.pem" "$D/live.key" \
    >"$D/rpcd.conf"
rpcd_start -l 127.0.0.1:0,tls -f "$D/rpcd.conf" || bail_out "rpcd did not start"
T=$RPCD_ADDR
wait_for 50 pgrep -P "$RPCD_PID" >/dev/null
old=$(pgrep -P "$RPCD_PID")
cp "$D/server2.pem" "$D/live.pem"
cp "$D/server2.key" "$D/live.key"
printf 'module %s worker=fail\n' "$D/testmod.so" >>"$D/rpcd.conf"
kill -HUP "$RPCD_PID"
wait_for 100 grep -q "rolling back" "$RPCD_LOG"
ok $? "prefork: a reload whose new worker fails is rolled back"
wait_for 100 sh -c "[ \"\$(pgrep -P $RPCD_PID)\" = $old ]"
kill -KILL "$old"
wait_for 100 sh -c "pgrep -P $RPCD_PID | grep -qvx $old"
is "$(subject "${T##*:}")" rpcd-one \
    "a worker respawned after it has the old generation's certificate"
rpcd_stop
is $? 0 "rpcd exits 0"

"$RPCD" -n -l 127.0.0.1:0,tls >/dev/null 2>"$D/err"
is $? 2 "a TLS listener without a certificate is refused"
ok_test "saying what it needs" grep -q "needs tls-cert and tls-key" "$D/err"
# A certificate or key that cannot be read stops rpcd with an error that
# names the file and why, whatever --log-level says; -n loads them too.
for n in "" -n; do
	"$RPCD" $n --log-level error -l 127.0.0.1:0,tls \
	    --tls-cert "$D/server.pem" --tls-key "$D/nonexistent.key" \
	    >/dev/null 2>"$D/err"
	is "$? $(sed 's/.*rpcd\[[0-9]*\]: //' "$D/err")" \
	    "1 error: TLS: tls-key $D/nonexistent.key: No such file or directory" \
	    "rpcd${n:+ $n} --log-level error: a missing key is an error naming it"
	"$RPCD" $n -l 127.0.0.1:0,tls --tls-key "$D/server.key" \
	    --tls-cert "$D/nonexistent.pem" >/dev/null 2>"$D/err"
	is "$? $(sed 's/.*rpcd\[[0-9]*\]: //' "$D/err")" \
	    "1 error: TLS: tls-cert $D/nonexistent.pem: No such file or directory" \
	    "rpcd${n:+ $n}: and so is a missing certificate"
done
"$RPCD" -n -l 127.0.0.1:0,tls --tls-cert "$D/server.pem" \
    --tls-key "$D/client.key" >/dev/null 2>"$D/err"
is $? 1 "rpcd -n: a key that is not the certificate's is refused"
"$RPCD" -n -l 127.0.0.1:0,tsl >/dev/null 2>"$D/err"
ok_test "an unknown listen keyword is refused" grep -q "unknown keyword tsl" \
    "$D/err"
"$C" --cacert "$D/ca.pem" ping >/dev/null 2>"$D/err"
is $? 2 "rpcctl: --cacert without --tls is a usage error"

done_testing
