#!/bin/sh
# The configuration file (-f) and its check (-n): every directive, each
# kind of error with its file:line and exit 1, the command line over the
# file, the shipped rpcd.conf; SIGHUP with --prefork reads it again.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

C=$RPCCTL
F=$TEST_DIR/rpcd.conf

# A file with every directive, none at its default; -n prints the settings
# it makes, as directives.  A build without ZooKeeper takes no register
# and advertise: its -n prints them unset.
if "$RPCD" --register zk://127.0.0.1:1/probe -n >/dev/null 2>&1; then
	zk_given="register zk://127.0.0.1:2181,[::1]:2182/rpcd/prod
advertise rpcd.example"
	zk_printed=$zk_given
else
	zk_given=
	zk_printed="#register
#advertise"
fi
every="listen 127.0.0.1:0,tls,name=pub
listen unix:rel.sock,proxy
listen 127.0.0.1:0,http
proxy-from 10.0.0.0/8
proxy-from 2001:db8::/32
allow ping,stats from=10.0.0.0/8
deny exec.* user=nobody
allow * listener=pub cn=ops
log-denied
http-cors https://app.example
http-cors http://localhost:8000
module ./rel.so take=x
prefork 2
reuseport
metrics-listen 127.0.0.1:0
@zk@
daemon
user nobody
pidfile rel.pid
unix-mode 0660
max-frame 4096
max-depth 8
max-conns 100
client-conns 5
client-rate 100
client-burst 10
byte-rate 100000
max-output 2048
max-inflight 64
call-timeout 9
offload-threads 3
offload-queue 77
idle-timeout 7
frame-timeout 5
shutdown-timeout 3
drain-delay 4
agent-listen 127.0.0.1:0
tls-cert rel.pem
tls-key rel.key
tls-ca rel-ca.pem
tls-verify require
tls-min-version 1.3
tls-ciphers HIGH
tls-ciphersuites TLS_AES_256_GCM_SHA384
tls-handshake-timeout 5
log-file rel.log
log-level warning
verbose"
{
	echo "# every directive"
	echo "$every" | sed '1s/$/		# a comment after a value/' |
	    awk -v zk="$zk_given" '$0 == "@zk@" { if (zk != "") print zk; next }
		{ print }'
	echo "   verbose   "
} >"$F"
RPCD_ABS=$(cd "$(dirname "$RPCD")" && pwd)/$(basename "$RPCD")
cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/rel.so" &&
    chmod 0755 "$TEST_DIR/rel.so" || bail_out "no testmod.so: make check builds it"
# -n reads the certificates and key as a start does: real ones.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$TEST_DIR/rel.key" -out "$TEST_DIR/rel.pem" -days 2 \
    -subj /CN=rel 2>/dev/null && cp "$TEST_DIR/rel.pem" "$TEST_DIR/rel-ca.pem" ||
    bail_out "openssl cannot make the test certificate"
(cd "$TEST_DIR" && "$RPCD_ABS" -n -f rpcd.conf) >"$TEST_DIR/out" 2>"$TEST_DIR/err"
is $? 0 "-n on a file with every directive exits 0"
is "$(cat "$TEST_DIR/out")" "$(echo "$every" |
    awk -v zk="$zk_printed" '$0 == "@zk@" { print zk; next } { print }' |
    sed "s| rel| $TEST_DIR/rel|;
    s| \./rel| $TEST_DIR/rel|;
    s|unix:rel|unix:$TEST_DIR/rel|")
verbose" "and prints each setting it makes, paths made absolute"
is "$(cat "$TEST_DIR/err")" "rpcd: the configuration in $TEST_DIR/rpcd.conf is valid" \
    "and says the file is valid"

# Each kind of error: "rpcd: file:line: why" and exit 1, with -n or not.
check_error()
{
	printf "$1" >"$F"
	for n in -n ""; do
		"$RPCD" $n -f "$F" -l 127.0.0.1:0 >/dev/null 2>"$TEST_DIR/err" &
		pid=$!
		wait_for 50 sh -c "! kill -0 $pid 2>/dev/null" ||
		    kill -TERM "$pid"
		wait "$pid"
		is "$? $(cat "$TEST_DIR/err")" "1 rpcd: $F:$2" \
		    "${n:-start}: $3"
	done
}
check_error '# comment\n\nfrobnicate 1\n' '3: unknown directive frobnicate' \
    "an unknown directive"
check_error 'max-frame 1\n' '1: max-frame 1: too small (2 to 4294967295)' \
    "a number out of bounds"
check_error 'idle-timeout 5s\n' '1: idle-timeout 5s: invalid (0 to 31536000)' \
    "a number that is not one"
check_error 'unix-mode 0999\n' '1: unix-mode 0999: not an octal mode (0 to 0777)' \
    "a bad mode"
check_error 'listen nonsense\n' "1: listen nonsense: $("$RPCD" -l nonsense 2>&1 |
    sed -n '1s/^rpcd: --listen nonsense: //p')" "a bad address"
check_error 'max-depth 8\nmax-conns 9\nmax-depth 9\n' \
    '3: max-depth given twice (first on line 1)' "a setting given twice"
check_error 'reuseport yes\n' '1: reuseport takes no value: yes' \
    "a value for a directive without one"
check_error 'max-frame\n' '1: max-frame needs a bytes' "a directive without its value"
check_error 'reuseport\n' '1: reuseport needs prefork' \
    "reuseport without prefork names its line"
rm -f "$F"
"$RPCD" -n -f "$F" 2>"$TEST_DIR/err"
is "$? $(cat "$TEST_DIR/err")" "1 rpcd: $F: No such file or directory" \
    "a missing file exits 1, naming it"
printf 'listen 192.0.2.1:8080\n' >"$F"
"$RPCD" -n -f "$F" 2>"$TEST_DIR/err" >/dev/null
is "$? $(cat "$TEST_DIR/err")" \
    "1 rpcd: cannot listen on 192.0.2.1:8080: Cannot assign requested address" \
    "-n checks that each address can be bound here"
# listen is repeatable; more than 16 is still an error.
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17; do
	echo "listen 127.0.0.1:$((20000 + i))"
done >"$F"
"$RPCD" -n -f "$F" 2>"$TEST_DIR/err" >/dev/null
is "$? $(cat "$TEST_DIR/err")" \
    "1 rpcd: $F:17: listen 127.0.0.1:20017: too many addresses (16 at most)" \
    "a 17th listen"

# The command line overrides the file, even where the file is wrong.
printf 'max-frame 4096\nmax-depth 8\nlisten 127.0.0.1:1\nlisten 127.0.0.1:2\n' >"$F"
"$RPCD" -n -f "$F" --max-frame 8192 -l 127.0.0.1:3 >"$TEST_DIR/out" 2>/dev/null
is "$(grep -e ^max- -e ^listen "$TEST_DIR/out" | grep -v -e output -e conns -e inflight)" \
    "listen 127.0.0.1:3
max-frame 8192
max-depth 8" "-n: the command line's --max-frame and -l win over the file's"
printf 'max-frame 1\n' >"$F"
"$RPCD" -n -f "$F" --max-frame 8192 >/dev/null 2>"$TEST_DIR/err"
is "$? $(cat "$TEST_DIR/err")" "1 rpcd: $F:1: max-frame 1: too small (2 to 4294967295)" \
    "a bad value the command line overrides is still an error"
"$RPCD" -n --max-frame 1 2>/dev/null
is $? 2 "-n: a bad option is a usage error (exit 2)"

# The shipped rpcd.conf: as it stands, and with every "#directive" line
# uncommented, it makes the defaults.
"$RPCD" -n -f /dev/null >"$TEST_DIR/defaults" 2>/dev/null
"$RPCD" -n -f "$top_srcdir/contrib/rpcd.conf" >"$TEST_DIR/out" 2>/dev/null
is "$?" 0 "contrib/rpcd.conf is valid"
ok_test "and makes the defaults" cmp -s "$TEST_DIR/defaults" "$TEST_DIR/out"
sed 's/^#\([a-z]\)/\1/' "$top_srcdir/contrib/rpcd.conf" >"$F"
"$RPCD" -n -f "$F" >"$TEST_DIR/out" 2>/dev/null
ok_test "and so do its lines of defaults, uncommented" \
    cmp -s "$TEST_DIR/defaults" "$TEST_DIR/out"
is "$(grep -c '^[a-z]' "$F")" "$(grep -c '^[a-z]' "$TEST_DIR/defaults")" \
    "which are all the settings with a value by default"

# A server started with a file runs with its settings (stats shows them).
setting()
{
	"$C" -S "$RPCD_ADDR" --json stats | grep -o "\"$1\": [^,}]*" |
	    sed 's/.*: //'
}
printf 'max-frame 4096\nidle-timeout 7\n' >"$F"
rpcd_start -f "$F" --idle-timeout 9 || bail_out "rpcd -f did not start"
is "$(setting max-frame) $(setting idle-timeout)" "4096 9" \
    "stats shows the file's max-frame and the command line's idle-timeout"
kill -HUP "$RPCD_PID"
wait_for 50 grep -q "SIGHUP: logs reopened" "$RPCD_LOG"
ok_test "a single process says SIGHUP reads the rest only with --prefork" \
    grep -q "the access rules and certificates are read again, the rest of the configuration only with --prefork" "$RPCD_LOG"
rpcd_stop

done_testing
