#!/bin/sh
# Access rules (--allow, --deny): cn=, dns=, email=, uri= on real client
# certificates; user= and group= of Unix peers (root and nobody, through
# setpriv); from= over IPv4, IPv6 and behind PROXY headers; listener= by
# address and by ,name=.  A denied call is answered forbidden and the
# connection goes on; methods lists only what the caller may call; the
# denied counters in stats and /metrics; --log-denied; the identity in
# the access line.  Bad rules exit 1 with file:line, -n prints them back;
# SIGHUP reads them again, in a single process (applied to the
# connections open) and with --prefork, a bad file keeping the old ones;
# and a reload under load answers every request.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3
D=$TEST_DIR
C=$RPCCTL
F=$D/rpcd.conf
cp "$top_builddir/tests/.libs/testmod.so" "$D/testmod.so" &&
    chmod 0755 "$D/testmod.so" || bail_out "no testmod.so: make check builds it"
MOD="-m $D/testmod.so"
FORBIDDEN='{"out": "error", "result": {"code": "forbidden", "message": "not allowed to call'

# answer ADDR METHOD [PARAMS]: "ok RESULT", or the error code of the reply.
answer()
{
	wire -n 1 -t 10 "$1" "j:{\"in\": \"$2\", \"params\": ${3:-1}}" |
	    sed 's/^{"out": "error", "result": {"code": "\([^"]*\)".*/\1/;
	    s/^{"out": "[^"]*", "result": \(.*\)}$/ok \1/'
}

# The total of a counter in the stats of the rpcd on $1.
total()
{
	"$C" -S "$1" --json stats | grep -o '"total": {[^}]*' |
	    sed "s/.*\"$2\": \([0-9]*\).*/\1/"
}

### Forbidden, the connection open; methods filtered; counters; log lines.
rpcd_start $MOD --metrics-listen 127.0.0.1:0 --log-denied \
    --allow 'ping,methods' --deny 'stats from=10.0.0.0/8' \
    --allow 'stats,e*o,later' || bail_out "rpcd did not start"
A=$RPCD_ADDR
METRICS=$(sed -n 's|.*serving metrics on http://\([^/]*\)/metrics$|\1|p' \
    "$RPCD_LOG")
out=$(wire -n 4 "$A" 'j:{"in": "pid"}' 'j:{"in": "ping", "params": 1}' \
    'j:{"in": "nosuch"}' 'j:{"in": "echo", "params": 2}')
is "$out" "$FORBIDDEN pid\"}}
{\"out\": \"pong\", \"result\": 1}
$FORBIDDEN nosuch\"}}
{\"out\": \"echo\", \"result\": 2}" \
    "forbidden names the method, and the connection goes on to the next call"
is "$("$C" -S "$A" methods | awk '{ print $1 }' | tr '\n' ' ')" \
    "ping methods stats echo later " \
    "methods lists only what this caller may call"
is "$(wire -n 3 "$A" 'j:{"in": "later", "params": 300}' 'j:{"in": "pid"}' \
    'j:{"in": "echo", "params": 3}')" '{"out": "later", "result": 300}
'"$FORBIDDEN"' pid"}}
{"out": "echo", "result": 3}' \
    "behind a call answered later, forbidden waits its turn"
ok_test "--log-denied: PEER: forbidden: METHOD" \
    grep -q "127.0.0.1:[0-9]*: forbidden: pid$" "$RPCD_LOG"
is "$(wire -n 1 "$A" 'j:{"in": "a\nb"}')" "$FORBIDDEN a\\u000ab\"}}" \
    "a name with a newline: in the reply as JSON escapes it"
ok_test "and escaped in the log" grep -q 'forbidden: a\\nb$' "$RPCD_LOG"
is "$(total "$A" denied)" 4 "stats: denied in the totals, of any name"
"$C" -S "$A" --json stats | grep -o '{ "name": "pid", "calls": [0-9]*, "errors": [0-9]*, "timeouts": [0-9]*, "denied": [0-9]*' |
    grep -q '"calls": 0, .*"denied": 2$'
ok $? "stats: denied per method, not counted as a call"
"$PYTHON3" - "$METRICS" >"$D/metrics" <<'EOF'
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://%s/metrics" % sys.argv[1],
                                        timeout=5).read().decode())
EOF
ok_test "/metrics: rpcd_method_denied_total per method" \
    grep -q '^rpcd_method_denied_total{method="pid",frontend="framed"} 2$' "$D/metrics"
ok_test "/metrics: rpcd_denied_total" grep -q '^rpcd_denied_total 4$' "$D/metrics"
rpcd_stop

### Certificates: cn=, dns=, email=, uri=; none verified, none matched.
if grep -q '^#define HAVE_TLS 1' "$top_builddir/config.h" &&
    command -v openssl >/dev/null; then
	ca ca &&
	cert server ca rpcd 'DNS:localhost,IP:127.0.0.1' &&
	cert ops ca ops 'DNS:ops.example,email:ops@example.com,URI:spiffe://example/ops' &&
	cert dev ca dev 'DNS:dev.example,DNS:*.lab.example,email:dev@example.org' ||
	    bail_out "openssl cannot make the test certificates"
	rpcd_start $MOD -l 127.0.0.1:0,tls --tls-cert "$D/server.pem" \
	    --tls-key "$D/server.key" --tls-ca "$D/ca.pem" \
	    --tls-verify optional --allow ping --allow 'echo cn=ops' \
	    --allow 'later dns=dev.example' --allow 'pid email=*@example.com' \
	    --allow 'fail uri=spiffe://example/*' --allow whoami ||
	    bail_out "rpcd did not start"
	# tls_call WHO METHOD [PARAMS]: the result, or the error code, of a
	# call with WHO's certificate (none: without one).
	tls_call()
	{
		who=$1
		shift
		if [ "$who" = none ]; then
			"$C" --tls --cacert "$D/ca.pem" -S "$RPCD_ADDR" call \
			    "$@" 2>&1
		else
			"$C" --tls --cacert "$D/ca.pem" --cert "$D/$who.pem" \
			    --key "$D/$who.key" -S "$RPCD_ADDR" call "$@" 2>&1
		fi | sed 's/^rpcctl: .*: \([a-z_]*\): .*/\1/'
	}
	is "$(tls_call ops echo 5)" 5 "cn=ops: ops may call echo"
	is "$(tls_call dev echo 5)" forbidden "and dev may not"
	is "$(tls_call none echo 5)" forbidden "nor a client without a certificate"
	is "$(tls_call none ping 5)" 5 "which may still ping"
	is "$(tls_call dev later 1)" 1 "dns=dev.example: a SAN DNS entry matches"
	is "$(tls_call ops later 1)" forbidden "and ops.example does not"
	is "$(tls_call ops pid 0 | grep -c '^[0-9][0-9]*$')" 1 \
	    "email=*@example.com: a SAN email entry matches"
	is "$(tls_call dev pid 0)" forbidden "and dev@example.org does not"
	is "$(tls_call ops fail 0)" nope "uri=spiffe://example/*: allowed, the module's own error"
	is "$(tls_call dev fail 0)" forbidden "and dev, without that URI, is forbidden"
	is "$(tls_call ops whoami | sed -n 's/.*"subject": *\([^,}]*\).*/\1/p')" \
	    '"CN=ops"' "a module's caller() gives the certificate's subject"
	is "$(tls_call none whoami | sed -n 's/.*"subject": *\([^,}]*\).*/\1/p')" \
	    null "and none without a certificate"
	rpcd_stop
	ok_test "the access line names the verified certificate's CN" \
	    grep -q "closed: .*(listener=127.0.0.1:[0-9]* cn=ops seconds=" \
	    "$RPCD_LOG"
	ok_test "and none for a client without a certificate" \
	    grep -q "closed: .*(listener=127.0.0.1:[0-9]* seconds=" "$RPCD_LOG"

	### README's example, as it stands but for its paths and group.
	cert deploy ca deploy.example.com 'DNS:deploy.example.com' ||
	    bail_out "openssl cannot make the test certificates"
	cp "$top_builddir/modules/.libs/exec.so" "$D/exec.so" &&
	    chmod 0755 "$D/exec.so" || bail_out "no exec.so"
	mkdir -m 0755 "$D/run"
	awk '/<!-- access-example -->/ { on = 1; next }
	    on && /^```/ { if (++fence == 2) exit; next }
	    on { print }' "$top_srcdir/README.md" |
	    sed "s|0.0.0.0:8443|127.0.0.1:0|;
	    s|/run/rpcd/|$D/run/|; s|/etc/rpcd/|$D/|;
	    s|^module exec |module $D/exec.so |; s|group=ops|group=root|" \
	    >"$D/readme.conf"
	ok_test "README has the access example" grep -q '^allow' "$D/readme.conf"
	# Its own listen lines, not rpcd_start's -l.
	"$RPCD" -f "$D/readme.conf" --unix-mode 0666 2>"$RPCD_LOG" &
	RPCD_PID=$!
	wait_for 100 rpcd_listening 2 ||
	    bail_out "rpcd did not start with README's example"
	RPCD_ADDR=$(sed -n 's/.*listening on \(127[^ ]*\).*/\1/p' "$RPCD_LOG")
	is "$(tls_call deploy exec.date | grep -c '^[0-9][0-9]*$')" 1 \
	    "README: the deploy certificate may call exec.date"
	is "$(tls_call ops exec.date)" forbidden "README: another may not"
	is "$(tls_call none exec.uptime)" forbidden "README: nor one without a certificate"
	is "$(tls_call none stats | head -c 1)" "{" "README: which may call stats"
	U=unix:$D/run/rpcd.sock
	is "$(answer "$U" exec.date | cut -c1-2)" ok \
	    "README: a user of the group may call exec.date on the socket"
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		chmod 0711 "$D"
		is "$(setpriv --reuid=nobody --regid="$(id -gn nobody)" \
		    --clear-groups "$WIRE" -n 1 "$U" 'j:{"in": "exec.date"}' |
		    sed 's/, "message.*//')" \
		    '{"out": "error", "result": {"code": "forbidden"' \
		    "README: another user may not"
		is "$(setpriv --reuid=nobody --regid="$(id -gn nobody)" \
		    --clear-groups "$WIRE" -n 1 "$U" 'j:{"in": "ping", "params": 1}')" \
		    '{"out": "pong", "result": 1}' "README: but may ping"
	else
		skip "not root, or no setpriv: cannot call as another user" 2
	fi
	rpcd_stop
else
	skip "built without TLS, or no openssl command" 24
fi

### from=: IPv4, IPv6, and behind PROXY headers the client's address.
hex()
{
	printf '%b' "$1" | od -An -tx1 | tr -d ' \n'
}
V4=$(hex 'PROXY TCP4 192.0.2.9 127.0.0.1 5555 8080\r\n')
V6=$(hex 'PROXY TCP6 2001:db8::5 ::1 5555 8080\r\n')
rpcd_start $MOD -l 127.0.0.1:0 -l '[::1]:0' -l 127.0.0.1:0,proxy \
    --allow 'echo from=127.0.0.0/8' --allow 'pid from=::1' \
    --allow 'stats from=192.0.2.0/24' --allow 'later from=2001:db8::/32' ||
    bail_out "rpcd did not start"
V4A=$(echo "$RPCD_ADDRS" | sed -n 1p)
V6A=$(echo "$RPCD_ADDRS" | sed -n 2p)
PA=$(echo "$RPCD_ADDRS" | sed -n 3p)
is "$(answer "$V4A" echo 3)" "ok 3" "from=127.0.0.0/8: an IPv4 client matches"
is "$(answer "$V4A" pid 0)" forbidden "and from=::1 does not"
is "$(answer "$V6A" pid 0 | cut -c1-2)" ok "from=::1: an IPv6 client matches"
is "$(answer "$V6A" echo 3)" forbidden "and from=127.0.0.0/8 does not"
is "$(wire -n 2 "$PA" "x:$V4" 'j:{"in": "echo", "params": 1}' \
    'j:{"in": "later", "params": 1}' | sed 's/, "message.*//')" \
    '{"out": "error", "result": {"code": "forbidden"
{"out": "error", "result": {"code": "forbidden"' \
    "behind a PROXY v4 header, the proxy's 127.0.0.1 is not what matches"
is "$(wire -n 1 "$PA" "x:$V4" 'j:{"in": "stats"}' | cut -c1-16)" \
    '{"out": "stats",' "the client's 192.0.2.9 is"
is "$(wire -n 1 "$PA" "x:$V6" 'j:{"in": "later", "params": 1}')" \
    '{"out": "later", "result": 1}' \
    "behind a PROXY v6 header, the client's 2001:db8::5 matches"
is "$(wire -n 1 "$PA" "x:$V6" 'j:{"in": "stats"}' | sed 's/, "message.*//')" \
    '{"out": "error", "result": {"code": "forbidden"' "and no other network"
rpcd_stop

### listener=: by address, and by ,name=.
rpcd_start $MOD -l 127.0.0.1:0,name=public -l "unix:$D/a.sock" \
    --allow 'echo listener=public' --allow "pid listener=unix:$D/a.sock" ||
    bail_out "rpcd did not start"
is "$(answer "$RPCD_ADDR" echo 4)" "ok 4" "listener=public: ,name=public matches"
is "$(answer "$RPCD_ADDR" pid 0)" forbidden "and the other listener's rule does not"
is "$(answer "unix:$D/a.sock" pid 0 | cut -c1-2)" ok \
    "listener=unix:PATH: the address as -l gave it matches"
is "$(answer "unix:$D/a.sock" echo 4)" forbidden "and ,name=public does not"
rpcd_stop

### user= and group= on a Unix socket: root and nobody.
if [ "$(id -u)" != 0 ]; then
	skip "not root: cannot call as another user" 9
elif ! command -v setpriv >/dev/null; then
	skip "no setpriv (util-linux)" 9
else
	# A directory nobody may enter, the socket open to all: the rules
	# alone decide.
	chmod 0711 "$D"
	mkdir -m 0755 "$D/u"
	NOGROUP=$(id -gn nobody)
	rpcd_start $MOD -l "unix:$D/u/s.sock" --unix-mode 0666 \
	    --allow 'echo user=nobody' --allow "pid group=$NOGROUP" \
	    --allow 'stats user=0' --allow ping ||
	    bail_out "rpcd did not start"
	U=unix:$D/u/s.sock
	nobody()
	{
		setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$@"
	}
	is "$(nobody "$WIRE" -n 1 "$U" 'j:{"in": "echo", "params": 6}')" \
	    '{"out": "echo", "result": 6}' "user=nobody: nobody may call echo"
	is "$(answer "$U" echo 6)" forbidden "and root may not"
	is "$(nobody "$WIRE" -n 1 "$U" 'j:{"in": "pid"}' | cut -c1-13)" \
	    '{"out": "pid"' "group=$NOGROUP: the peer's gid matches"
	is "$(answer "$U" pid 0)" forbidden "and root's does not"
	is "$(answer "$U" stats | cut -c1-2)" ok "user=0: a uid matches"
	is "$(nobody "$WIRE" -n 1 "$U" 'j:{"in": "stats"}' | sed 's/, "message.*//')" \
	    '{"out": "error", "result": {"code": "forbidden"' \
	    "and nobody's does not"
	rpcd_stop
	ok_test "the access line names a Unix peer's uid and gid" \
	    grep -q "closed: .*(listener=unix:$D/u/s.sock uid=$(id -u nobody) gid=$(id -g nobody) seconds=" \
	    "$RPCD_LOG"
	ok_test "root's too" \
	    grep -q "closed: .*(listener=unix:$D/u/s.sock uid=0 gid=0 seconds=" \
	    "$RPCD_LOG"
	# A group's member list, looked up at start: a member calls with
	# another primary gid.
	member=$(getent group | awk -F: '$4 != "" { split($4, m, ","); print $1, m[1]; exit }')
	if [ -n "$member" ] && id "${member#* }" >/dev/null 2>&1 &&
	    [ "$(id -g "${member#* }")" != "$(getent group "${member% *}" | cut -d: -f3)" ]; then
		rpcd_start -l "unix:$D/u/s.sock" --unix-mode 0666 \
		    --allow "stats group=${member% *}" ||
		    bail_out "rpcd did not start"
		is "$(setpriv --reuid="${member#* }" --regid="$NOGROUP" \
		    --clear-groups "$WIRE" -n 1 "$U" 'j:{"in": "stats"}' | cut -c1-16)" \
		    '{"out": "stats",' \
		    "group=${member% *}: a user of its member list matches"
		rpcd_stop
	else
		skip "no group here lists a member of another primary group" 1
	fi
fi

### Errors: file:line, exit 1; -n prints the rules back.
check_error()
{
	printf "$1" >"$F"
	"$RPCD" -n -f "$F" >/dev/null 2>"$D/err"
	is "$? $(cat "$D/err")" "1 rpcd: $F:$2" "$3"
}
check_error 'allow ping\nallow echo colour=red\n' \
    '2: allow echo colour=red: unknown key colour (listener, from, user, group, cn, dns, email or uri)' \
    "an unknown key"
check_error 'deny * from=10.1.0.0/8\n' \
    '1: deny * from=10.1.0.0/8: address bits set past the prefix length /8' \
    "a bad CIDR"
check_error 'deny * from=fe80::zz\n' \
    '1: deny * from=fe80::zz: not an IPv4 or IPv6 address' "a bad address"
check_error '# x\nallow ping user=no-such-user\n' \
    '2: allow ping user=no-such-user: unknown user no-such-user' \
    "an unknown user"
check_error 'allow ping group=no-such-group\n' \
    '1: allow ping group=no-such-group: unknown group no-such-group' \
    "an unknown group"
check_error 'allow\n' '1: allow needs a rule' "empty methods"
check_error 'allow user=root\n' \
    '1: allow user=root: no methods before user=root' "methods missing"
check_error 'allow ping,,echo\n' \
    '1: allow ping,,echo: an empty method pattern' "an empty pattern"
check_error 'listen 127.0.0.1:0\n\nallow ping listener=nope\n' \
    '3: allow ping listener=nope: no listener nope' "an unknown listener"
"$RPCD" -l 127.0.0.1:0 --allow 'ping cn=' 2>"$D/err"
is "$? $(head -n 1 "$D/err")" "2 rpcd: --allow ping cn=: cn= without a value" \
    "on the command line, a usage error (exit 2)"
printf 'allow ping,stats from=10.0.0.0/8\ndeny exec.* user=0\nallow * listener=pub\n' >"$F"
"$RPCD" -n -f "$F" -l 127.0.0.1:0,name=pub 2>/dev/null |
    grep -e '^allow' -e '^deny' -e '^#allow' -e '^#deny' -e '^listen' >"$D/out"
is "$(cat "$D/out")" "listen 127.0.0.1:0,name=pub
allow ping,stats from=10.0.0.0/8
deny exec.* user=0
allow * listener=pub" "-n prints the rules back, allow and deny in one order"
"$RPCD" -n -f "$F" -l 127.0.0.1:0,name=pub --deny stats 2>/dev/null |
    grep -e '^allow' -e '^deny' >"$D/out"
is "$(cat "$D/out")" "deny stats" "rules on the command line replace the file's"
is "$("$RPCD" -n -l 127.0.0.1:0 2>/dev/null | grep -e allow -e deny | tr '\n' ' ')" \
    "#allow #deny " "no rules: -n says none"

### SIGHUP in a single process: applied to the connections open.
# hold.py ADDR: one connection; a line on stdin names a method, the reply's
# code (or "ok") comes back on stdout.
cat >"$D/hold.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
import rpcdtest
host, port = sys.argv[1].rsplit(":", 1)
sock = rpcdtest.connect((host, int(port)))
for line in sys.stdin:
    sock.sendall(rpcdtest.request(line.strip(), 1))
    r = rpcdtest.recv_reply(sock)
    out = r["result"]["code"] if r.get("out") == "error" else "ok"
    print(out, flush=True)
EOF
printf 'allow ping\n' >"$F"
rpcd_start $MOD -f "$F" || bail_out "rpcd did not start"
mkfifo "$D/in"
"$PYTHON3" "$D/hold.py" "$RPCD_ADDR" "$top_srcdir/tests" <"$D/in" >"$D/held" &
HOLD=$!
exec 7>"$D/in"
echo echo >&7
wait_for 100 grep -q . "$D/held"
is "$(cat "$D/held")" forbidden "a connection open: echo forbidden"
printf 'allow ping\nallow echo\n' >"$F"
kill -HUP "$RPCD_PID"
wait_for 100 grep -q "access rules read again" "$RPCD_LOG"
ok $? "SIGHUP: the rules are read again"
echo echo >&7
wait_for 100 sh -c "[ \$(wc -l <'$D/held') -ge 2 ]"
is "$(sed -n 2p "$D/held")" ok "and apply to the connection open: echo allowed"
is "$(answer "$RPCD_ADDR" echo 8)" "ok 8" "and to a new one"
printf 'allow ping\nallow echo\ndeny * colour=red\n' >"$F"
kill -HUP "$RPCD_PID"
wait_for 100 grep -q "rpcd.conf:3: deny \* colour=red: unknown key colour.*; the running access rules stay$" "$RPCD_LOG"
ok $? "a bad rule on SIGHUP: logged with file:line"
ok_test "and the process goes on" kill -0 "$RPCD_PID"
echo echo >&7
wait_for 100 sh -c "[ \$(wc -l <'$D/held') -ge 3 ]"
is "$(sed -n 3p "$D/held")" ok "the old rules stay"
printf 'deny echo\nallow *\n' >"$F"
kill -HUP "$RPCD_PID"
wait_for 100 sh -c "[ \$(grep -c 'access rules read again' '$RPCD_LOG') -ge 2 ]"
echo echo >&7
wait_for 100 sh -c "[ \$(wc -l <'$D/held') -ge 4 ]"
is "$(sed -n 4p "$D/held")" forbidden "a deny read again applies at once"
: >"$F"
kill -HUP "$RPCD_PID"
wait_for 100 grep -q "access rules read again: none, every call allowed" "$RPCD_LOG"
echo echo >&7
wait_for 100 sh -c "[ \$(wc -l <'$D/held') -ge 5 ]"
is "$(sed -n 5p "$D/held")" ok "no rules left: every call allowed"
exec 7>&-
wait "$HOLD"
rpcd_stop

### SIGHUP with --prefork: a new generation with the new rules.
printf 'allow ping,stats\n' >"$F"
rpcd_start $MOD -f "$F" -P 2 || bail_out "rpcd -P 2 did not start"
wait_workers 2
is "$(answer "$RPCD_ADDR" echo 9)" forbidden "-P 2: echo forbidden"
printf 'allow ping,stats,echo\n' >"$F"
kill -HUP "$RPCD_PID"
wait_for 100 grep -q "new generation ready" "$RPCD_LOG"
wait_workers 2
is "$(answer "$RPCD_ADDR" echo 9)" "ok 9" "SIGHUP: the new workers allow it"
printf 'allow ping,stats,echo\nallow pid bogus=1\n' >"$F"
kill -HUP "$RPCD_PID"
wait_for 100 grep -q "rpcd.conf:2: allow pid bogus=1: unknown key bogus" "$RPCD_LOG"
ok $? "a bad rule: logged with file:line"
wait_workers 2
is "$(answer "$RPCD_ADDR" echo 9)" "ok 9" "and the old rules stay"
rpcd_stop

### A reload under load: every request answered, result or forbidden.
cat >"$D/load.py" <<'EOF'
import os, signal, sys, threading, time
sys.path.insert(0, sys.argv[4])
import rpcdtest
host, port = sys.argv[1].rsplit(":", 1)
pid, conf = int(sys.argv[2]), sys.argv[3]
CONNS, N = 4, 400
results = [[] for _ in range(CONNS)]
errors = []
reloaded = threading.Event()

def client(k):
    try:
        sock = rpcdtest.connect((host, int(port)), timeout=20)
        for i in range(N):
            if i == N // 4 and k == 0:
                with open(conf, "w") as f:
                    f.write("allow ping\n")
                os.kill(pid, signal.SIGHUP)
            sock.sendall(rpcdtest.request("echo", i))
            r = rpcdtest.recv_reply(sock)
            if r is None:
                errors.append("conn %d: closed at request %d" % (k, i))
                return
            if r.get("out") == "echo" and r.get("result") == i:
                results[k].append("ok")
            elif r.get("out") == "error" and r["result"]["code"] == "forbidden":
                results[k].append("forbidden")
            else:
                errors.append("conn %d: request %d: %r" % (k, i, r))
                return
            # Half way, wait for the reload to be done, still connected.
            if i == N // 2:
                reloaded.wait(20)
    except Exception as e:
        errors.append("conn %d: %r" % (k, e))

def watch():
    log = sys.argv[5]
    end = time.time() + 20
    while time.time() < end:
        if "access rules read again" in open(log).read():
            reloaded.set()
            return
        time.sleep(0.05)

threads = [threading.Thread(target=client, args=(k,)) for k in range(CONNS)]
threads.append(threading.Thread(target=watch))
for t in threads:
    t.start()
for t in threads:
    t.join()
answered = sum(len(r) for r in results)
after = all(r and r[-1] == "forbidden" for r in results)
print("answered %d of %d; forbidden at the end: %s; %s" %
      (answered, CONNS * N, after, "; ".join(errors) or "no errors"))
EOF
printf 'allow ping,echo\n' >"$F"
rpcd_start $MOD -f "$F" || bail_out "rpcd did not start"
is "$("$PYTHON3" "$D/load.py" "$RPCD_ADDR" "$RPCD_PID" "$F" \
    "$top_srcdir/tests" "$RPCD_LOG")" \
    "answered 1600 of 1600; forbidden at the end: True; no errors" \
    "a reload under load: every request on 4 connections answered"
rpcd_stop

done_testing
