#!/bin/sh
# make bench-tls: rpcd over TLS against redis-server over TLS, each with
# the load generator that speaks its protocol over TLS (rpcctl bench --tls,
# redis-benchmark --tls), on one certificate made here by openssl(1).  Not
# part of make check.
#
# For each pipeline, ROUNDS rounds (default 5) alternate which server goes
# first; the median of the rounds is printed with the rpcd/redis ratio.
# Then the handshake rate of each, alternated too: new TLS connections per
# second that one openssl s_time client completes, full handshakes, no
# session reuse.

set -u
top_builddir=${top_builddir:-.}
RPCD=${RPCD:-$top_builddir/server/rpcd}
RPCCTL=${RPCCTL:-$top_builddir/client/rpcctl}
ROUNDS=${ROUNDS:-5}
. "${top_srcdir:-.}/tests/bench_lib.sh"
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CONNS=${CONNS:-50}
PIPELINES=${PIPELINES:-"1 16"}
REDIS_PORT=${REDIS_PORT:-6391}

for tool in openssl redis-server redis-benchmark; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "bench-tls: $tool is not installed" >&2
		exit 1
	}
done
grep -q '^#define HAVE_TLS 1' "$top_builddir/config.h" || {
	echo "bench-tls: rpcd was built without TLS" >&2
	exit 1
}
# A CA and a server certificate for 127.0.0.1, P-256 as tests/tls.sh makes.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/ca.key" -out "$work/ca.pem" -days 1 -subj /CN=bench-ca \
    2>/dev/null &&
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/server.key" -out "$work/server.csr" -subj /CN=bench \
    2>/dev/null &&
printf 'subjectAltName=IP:127.0.0.1\n' >"$work/ext" &&
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" \
    -CAkey "$work/ca.key" -CAcreateserial -days 1 -extfile "$work/ext" \
    -out "$work/server.pem" 2>/dev/null || {
	echo "bench-tls: openssl cannot make the certificates" >&2
	exit 1
}

"$RPCD" -l 127.0.0.1:0,tls --tls-cert "$work/server.pem" \
    --tls-key "$work/server.key" >/dev/null 2>"$work/rpcd.log" &
echo $! >>"$work/pids"
redis-server --port 0 --tls-port "$REDIS_PORT" --bind 127.0.0.1 \
    --tls-cert-file "$work/server.pem" --tls-key-file "$work/server.key" \
    --tls-ca-cert-file "$work/ca.pem" --tls-auth-clients no --save '' \
    --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
echo $! >>"$work/pids"
port=$(listening_port "$work/rpcd.log")
while ! grep -q 'Ready to accept' "$work/redis.log"; do sleep 0.1; done

rpcd_rps()
{
	"$RPCCTL" --tls --cacert "$work/ca.pem" -S "127.0.0.1:$port" --json \
	    bench -c "$CONNS" -P "$1" -d "$SECONDS_PER_RUN" |
	    tee -a "$work/raw" | sed -n 's/.*"rps": \([0-9.]*\).*/\1/p'
}
# redis-benchmark counts requests, not seconds: ask for about
# SECONDS_PER_RUN at 15k requests per second per pipeline slot.
redis_rps()
{
	redis-benchmark --tls --cacert "$work/ca.pem" -h 127.0.0.1 \
	    -p "$REDIS_PORT" -c "$CONNS" -P "$1" -t ping_mbulk -q \
	    -n $((SECONDS_PER_RUN * 15000 * $1)) | tr '\r' '\n' |
	    grep 'requests per second' | tee -a "$work/raw" |
	    sed -n 's/^PING_MBULK: \([0-9.]*\) requests per second.*/\1/p'
}
# Full handshakes per second of one client, for SECONDS_PER_RUN.
handshakes()
{
	openssl s_time -connect "127.0.0.1:$1" -new -CAfile "$work/ca.pem" \
	    -time "$SECONDS_PER_RUN" 2>/dev/null | grep "connections in" |
	    tee -a "$work/raw" |
	    sed -n 's/^\([0-9]*\) connections in \([0-9.]*\) real.*/\1 \2/p' |
	    awk '{printf "%.0f\n", $1 / $2}'
}

hs_rpcd()
{
	handshakes "$port"
}
hs_redis()
{
	handshakes "$REDIS_PORT"
}

for p in $PIPELINES; do
	set -- $(alternate rpcd_rps redis_rps "$p")
	echo "tls conns=$CONNS pipeline=$p rpcd_rps=$1 redis_rps=$2 ratio=$3" \
	    "round_ratio=$4"
done
set -- $(alternate hs_rpcd hs_redis)
echo "tls handshakes/s rpcd=$1 redis=$2 ratio=$3 round_ratio=$4"
echo "raw runs:"
cat "$work/raw"
