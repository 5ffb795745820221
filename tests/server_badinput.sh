#!/bin/sh
# Hostile input: each row is raw bytes and the outcome.  A recoverable
# error gets an error reply and the connection stays usable (a ping on the
# same connection is answered); a frame over --max-frame gets an error and
# the connection is closed; TLS and HTTP peers are closed at once.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

rpcd_start -v --max-frame 4096 || bail_out "rpcd did not start"
A=$RPCD_ADDR
hidden_inputs_check "" "$A"

out=$(wire -t 5 "$A" h:4097)
is "$out" "$(printf '%s\n%s' '{"out": "error", "result": {"code": "frame_too_large", "message": "frame length exceeds the limit"}}' '[closed]')" \
    "frame of max-frame+1 announced: error, then closed"
out=$(wire -t 5 "$A" x:ffffffff)
case $out in
*frame_too_large*'[closed]') ok 0 "0xFFFFFFFF announced: error, then closed" ;;
*) ok 1 "0xFFFFFFFF announced: error, then closed"; diag "$out" ;;
esac
# More input behind the bad header, never read: rpcd lingers, reading and
# discarding it, so the peer gets the error and an orderly close, not a
# reset (which can destroy the reply before the peer has read it).
is "$(wire -t 5 -c -r 16384 "$A" h:4097)" "$(printf '%s\n%s' '{"out": "error", "result": {"code": "frame_too_large", "message": "frame length exceeds the limit"}}' '[closed]')" \
    "64 KiB behind a frame over the limit: error, then closed, not reset"
ok_test "the close after the error lingered (-v)" \
    grep -q "lingering: frame too large" "$RPCD_LOG"
is "$(wire -t 1 "$A" h:4096)" "[timeout]" \
    "a frame of exactly max-frame is waited for"

is "$(wire -t 5 "$A" x:160301007a0100007603)" "[closed]" \
    "TLS ClientHello: closed at once"
is "$(wire -t 5 "$A" x:474554202f20485454502f312e310d0a0d0a)" "[closed]" \
    "HTTP GET: closed at once"
ok_test "TLS peer logged (-v)" grep -q "peer speaks TLS" "$RPCD_LOG"
# A request of 790 bytes starts 16 03 00 00, as a TLS record does.
x762=$(printf '%0762d' 0)
is "$(wire -n 1 "$RPCD_ADDR" "j:{\"in\": \"ping\", \"params\": \"$x762\"}")" \
    "{\"out\": \"pong\", \"result\": \"$x762\"}" \
    "a 790-byte request is not mistaken for TLS"
ok_test "HTTP peer logged (-v)" grep -q "peer speaks HTTP" "$RPCD_LOG"

# Random garbage never kills the server.
i=0
while [ $i -lt 30 ]; do
	hex=$(od -An -tx1 -N64 /dev/urandom | tr -d ' \n')
	wire -t 0.2 "$A" "x:$hex" >/dev/null
	i=$((i + 1))
done
ok_test "30 random 64-byte inputs later, rpcd still answers" ping_ok "$A"

rss=$(awk '/VmRSS/ {print $2}' /proc/"$RPCD_PID"/status 2>/dev/null)
if [ -n "$rss" ]; then
	ok_test "server RSS stays small after huge announced lengths (${rss} kB)" \
	    test "$rss" -lt 65536
else
	skip "no /proc to read RSS from"
fi

rpcd_stop
ok $? "rpcd exits 0"
done_testing
