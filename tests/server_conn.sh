#!/bin/sh
# Connections: large frames read whole and in order however they are cut,
# a client streaming large frames is never taken for a slow one, the listen
# backlog is the one rpcd asked for, the select(2) backend survives more
# clients than it can watch, --max-conns is logged once per episode, a
# drain closes idle connections at once, the replies to a read leave in one
# write, and a pass holding more than 1 MiB of replies sends them all.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3

# stream PORT SECONDS SIZES...: a client that sends ping frames of the
# given sizes (cycled) back to back for SECONDS from one thread, as fast as
# the socket takes them, then half-closes; the replies are read meanwhile
# until rpcd closes, each checked against its request.  Prints "N replies"
# or why not.
stream()
{
	"$PYTHON3" - "$@" <<'EOF'
import socket, struct, sys, threading, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
sizes = [int(n) for n in sys.argv[3:]]
sent = [0, False]
# One batch of 16 frames, built once, so that sending runs at C speed;
# built before connecting, so that a slow machine's time building 16 MB
# is not idle time of the connection.
frames, replies = [], []
for i in range(16):
    tag = "%d:" % i
    params = '"' + tag + "x" * max(0, sizes[i % len(sizes)] - len(tag)) + '"'
    body = ('{"in": "ping", "params": %s}' % params).encode()
    frames.append(struct.pack("<I", len(body)) + body)
    replies.append(('{"out": "pong", "result": %s}' % params).encode())
batch = b"".join(frames)
s = socket.create_connection(("127.0.0.1", port))
def send():
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            s.sendall(batch)
            sent[0] += len(replies)
        s.shutdown(socket.SHUT_WR)
        sent[1] = True
    except OSError:
        pass
sender = threading.Thread(target=send)
sender.start()
got, buf = 0, bytearray()
while True:
    try:
        d = s.recv(1 << 20)
    except OSError as e:
        d = None
    if not d:
        break
    buf += d
    while len(buf) >= 4 and len(buf) >= 4 + struct.unpack("<I", buf[:4])[0]:
        n = struct.unpack("<I", buf[:4])[0]
        if buf[4:4 + n] != replies[got % len(replies)]:
            print("reply %d is wrong: %r" % (got, buf[4:4 + n][:60])); sys.exit(1)
        del buf[:4 + n]
        got += 1
sender.join()
if not sent[1] or got != sent[0]:
    print("closed after %d replies of %d sent" % (got, sent[0])); sys.exit(1)
print("%d replies" % got)
EOF
}

# Large frames, pipelined, of sizes around the 4 KiB a bufferevent reads
# at once and the 16 KiB of a first read: every reply right and in order.
rpcd_start --max-frame 300000 || bail_out "rpcd did not start"
out=$(stream "$RPCD_PORT" 1 4090 4091 4100 16380 16400 65536 200000 1 70000)
case $out in
*" replies") ok 0 "large pipelined frames of mixed sizes are answered in order ($out)" ;;
*) ok 1 "large pipelined frames of mixed sizes are answered in order"; diag "$out" ;;
esac
ok_test "a 100000-byte frame cut into single bytes is answered" \
    sh -c "\"$WIRE\" -1 -n 1 -t 20 \"$RPCD_ADDR\" \
    'j:{\"in\": \"ping\", \"params\": \"$(printf '%0100000d' 0)\"}' |
    grep -q '^{\"out\": \"pong\", \"result\": \"0000'"
rpcd_stop

# A client that keeps the socket busy with frames larger than one read
# seldom lets rpcd's input run empty, yet completes frame after frame: that
# is progress, and neither --frame-timeout nor --idle-timeout may cut it
# off.
# The timeouts are well above the time one frame takes, even on a loaded
# machine, and well below the time the stream goes on.
rpcd_start -v --frame-timeout 2 --idle-timeout 2 ||
    bail_out "rpcd did not start"
out=$(stream "$RPCD_PORT" 6 1000000 200000)
case $out in
*" replies") ok 0 "1 MB frames streamed for 6 s past --frame-timeout 2: $out" ;;
*) ok 1 "1 MB frames streamed for 6 s past --frame-timeout 2"; diag "$out" ;;
esac
ok_test "and no frame timed out" \
    sh -c "! grep -q 'frame timed out' '$RPCD_LOG'"
rpcd_stop

# The replies to what one read brought leave in one write(2), however
# many they are and however the reply buffer is cut into chunks: rpcd is
# stopped while a burst arrives, so that one read takes it all, and
# /proc/PID/io counts rpcd's write system calls.  A reply buffer sent one
# chunk at a time would leave the rest to the write event: more writes,
# and two epoll_ctl() calls.
burst_writes()
{
	"$PYTHON3" - "$RPCD_PORT" "$RPCD_PID" "$@" <<'EOF'
import os, signal, socket, struct, sys
port, pid, count, size = (int(a) for a in sys.argv[1:])
def syscw():
    with open("/proc/%d/io" % pid) as f:
        return int(dict(l.split(": ") for l in f.read().splitlines())["syscw"])
def frame(params):
    body = ('{"in": "ping", "params": %s}' % params).encode()
    return struct.pack("<I", len(body)) + body
def replies(s, n):
    buf = b""
    for i in range(n):
        while len(buf) < 4 or len(buf) < 4 + struct.unpack("<I", buf[:4])[0]:
            d = s.recv(1 << 20)
            if not d:
                sys.exit("closed")
            buf += d
        buf = buf[4 + struct.unpack("<I", buf[:4])[0]:]
s = socket.create_connection(("127.0.0.1", port))
s.sendall(frame(1))
replies(s, 1)
before = syscw()
os.kill(pid, signal.SIGSTOP)
s.sendall(frame('"' + "x" * size + '"') * count)
os.kill(pid, signal.SIGCONT)
replies(s, count)
print(syscw() - before)
EOF
}
if [ -r /proc/self/io ]; then
	rpcd_start || bail_out "rpcd did not start"
	is "$(burst_writes 8 4096)" 1 \
	    "8 pipelined 4 KiB requests read at once: their replies in one write"
	is "$(burst_writes 400 16)" 1 \
	    "400 pipelined pings read at once: their replies in one write"
	rpcd_stop
else
	skip "no /proc/PID/io to count write system calls"
fi

# A pass holds at most RPCD_SEND_HELD_MAX (1 MiB) of replies, then sends
# them: 24 connections' 64 KiB pings, arriving while rpcd is stopped, are
# served in one pass that sends part of its replies early and the rest at
# its end.  Every connection gets its own reply, whole.
rpcd_start || bail_out "rpcd did not start"
out=$("$PYTHON3" - "$RPCD_PORT" "$RPCD_PID" <<'EOF'
import os, signal, socket, struct, sys
port, pid = int(sys.argv[1]), int(sys.argv[2])
socks = [socket.create_connection(("127.0.0.1", port)) for i in range(24)]
os.kill(pid, signal.SIGSTOP)
try:
    for i, s in enumerate(socks):
        body = ('{"in": "ping", "params": "%d:%s"}' % (i, "x" * 65536)).encode()
        s.sendall(struct.pack("<I", len(body)) + body)
finally:
    os.kill(pid, signal.SIGCONT)
bad = 0
for i, s in enumerate(socks):
    s.settimeout(20)
    want = ('{"out": "pong", "result": "%d:%s"}' % (i, "x" * 65536)).encode()
    buf = b""
    while len(buf) < 4 + len(want):
        d = s.recv(1 << 20)
        if not d:
            break
        buf += d
    bad += buf != struct.pack("<I", len(want)) + want
print("%d of %d wrong" % (bad, len(socks)))
EOF
)
is "$out" "0 of 24 wrong" "1.5 MiB of replies in one pass: each connection's whole"
rpcd_stop

# The listen backlog is RPCD_BACKLOG, not libevent's 128: ss shows it as
# the Send-Q of the listening socket.
rpcd_start || bail_out "rpcd did not start"
if command -v ss >/dev/null 2>&1; then
	is "$(ss -Hltn "sport = :$RPCD_PORT" | awk '{print $3}')" 511 \
	    "the listen backlog is 511"
elif [ "${CI:-}" = true ]; then
	ok 1 "ss (iproute2) is missing in CI"
else
	skip "ss (iproute2) not installed"
fi

# A drain closes at once a connection with nothing to answer, instead of
# waiting --shutdown-timeout for it; one that is still sending its frame is
# waited for, and it is the only one the timeout line counts.
rpcd_stop
rpcd_start -v --shutdown-timeout 3 || bail_out "rpcd did not start"
"$WIRE" -w -t 30 "$RPCD_ADDR" >/dev/null 2>&1 &
idle=$!
wait_for 50 grep -q ': connected' "$RPCD_LOG"
sleep 1.2	# older than the grace a new connection gets for its request
t0=$(date +%s%N)
kill -TERM "$RPCD_PID"
wait "$RPCD_PID"
is $? 0 "SIGTERM with an idle connection open exits 0"
RPCD_PID=
t=$((($(date +%s%N) - t0) / 1000000))
ok_test "at once, not after --shutdown-timeout 3 (${t} ms)" test "$t" -lt 1500
ok_test "closing the idle connection" grep -q 'closed: shutting down' "$RPCD_LOG"
kill "$idle" 2>/dev/null
wait "$idle" 2>/dev/null

rpcd_start -v --shutdown-timeout 1 || bail_out "rpcd did not start"
"$WIRE" -w -t 30 "$RPCD_ADDR" >/dev/null 2>&1 &
idle=$!
"$WIRE" -w -t 30 "$RPCD_ADDR" h:100 >/dev/null 2>&1 &
half=$!
wait_for 50 sh -c "[ \$(grep -c ': connected' '$RPCD_LOG') -ge 2 ]"
sleep 1.2	# older than the grace a new connection gets for its request
rpcd_stop
is $? 0 "SIGTERM with a half-sent frame exits 0 after --shutdown-timeout"
ok_test "the timeout counts the half frame, not the idle connection" \
    grep -q 'closing 1 connection(s), 1 with requests or replies unfinished' \
    "$RPCD_LOG"
kill "$idle" "$half" 2>/dev/null
wait "$idle" "$half" 2>/dev/null

# drain_client PORT PID SIGNAL MODE: a client pipelining pings on one
# connection, at most 256 unanswered, 16 sent at a time as replies come,
# which sends SIGNAL to PID once 2000 are answered and goes on until rpcd
# closes the connection; then sends more requests, as a client that has
# not noticed yet does, and closes its end.  So requests are still
# arriving when the close begins, and after.  MODE window: just that;
# trickle: before the signal, the start of a large frame, then the rest a
# few bytes at a time, so that the connection is never idle.  Every reply
# must come whole and right, then end of file, and no reset at any point
# (ECONNRESET, or EPIPE once the end of file has come): the close must
# linger, discarding what comes.  Prints the counts, the seconds from the
# signal to the end of file, and the errors.
drain_client()
{
	"$PYTHON3" - "$@" <<'EOF_PY'
import os, signal, socket, struct, sys, threading, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
sig, mode = getattr(signal, sys.argv[3]), sys.argv[4]
WINDOW, BATCH, SIGNAL_AT = 256, 16, 2000
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(60)
def frame(i):
    body = ('{"in": "ping", "params": %d}' % i).encode()
    return struct.pack("<I", len(body)) + body
st = {"sent": 0, "got": 0, "eof": False, "signalled": 0}
errors = []
cv = threading.Condition()
def writer():
    try:
        while True:
            with cv:
                while not st["eof"] and st["sent"] - st["got"] >= WINDOW \
                    and (st["signalled"] or st["got"] < SIGNAL_AT):
                    cv.wait()
                if st["eof"]:
                    return
                first = st["sent"]
                now = not st["signalled"] and st["got"] >= SIGNAL_AT
                if not now:
                    st["sent"] += BATCH
            if not now:
                s.sendall(b"".join(frame(i)
                    for i in range(first, first + BATCH)))
                continue
            if mode == "trickle":
                s.sendall(struct.pack("<I", 1000000) + b"x" * 64)
            os.kill(pid, sig)
            st["signalled"] = time.monotonic()
            # A frame of 1 MB, 64 bytes every 20 ms: rpcd reads on.
            while mode == "trickle":
                with cv:
                    if st["eof"]:
                        return
                s.sendall(b"x" * 64)
                time.sleep(0.02)
    except OSError as e:
        errors.append("send: %s" % e)
t = threading.Thread(target=writer)
t.start()
buf, bad = b"", 0
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
        while len(buf) >= 4 and len(buf) >= 4 + struct.unpack("<I", buf[:4])[0]:
            n = struct.unpack("<I", buf[:4])[0]
            with cv:
                want = ('{"out": "pong", "result": %d}' % st["got"]).encode()
                bad += buf[4:4 + n] != want
                st["got"] += 1
                cv.notify_all()
            buf = buf[4 + n:]
except OSError as e:
    errors.append("recv: %s" % e)
with cv:
    st["eof"] = True
    cv.notify_all()
took = time.monotonic() - st["signalled"] if st["signalled"] else -1
t.join()
try:
    s.sendall(frame(st["sent"]) * 64)
    s.shutdown(socket.SHUT_WR)
except OSError as e:
    errors.append("send after end of file: %s" % e)
# Await the end of the connection, then ask whether it was a reset.
end = time.monotonic() + 30
while time.monotonic() < end and \
    s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != 7:
    time.sleep(0.01)
err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
if err:
    errors.append("reset: %s" % os.strerror(err))
print("%d of %d answered, %d wrong, %d bytes cut, end of file after %d s, %s" %
    (st["got"], st["sent"], bad, len(buf), took,
    "; ".join(errors) or "no error"))
EOF_PY
}

# drain_check WHAT OUT MAX: OUT, drain_client's line, says every request
# was answered up to the close, each reply whole and right, an end of
# file within MAX seconds of the signal, and no reset.
drain_check()
{
	case $2 in
	*" answered, 0 wrong, 0 bytes cut, end of file after "*" s, no error")
		took=${2##*end of file after }
		took=${took%% s*}
		ok_test "$1: whole replies, then end of file, no reset ($2)" \
		    test "$took" -lt "$3" ;;
	*)	ok 1 "$1: whole replies, then end of file, no reset"
		diag "$2" ;;
	esac
}

# Every close rpcd starts lingers: a drain's, of a single process at
# SIGTERM and of the old workers at a reload, with requests arriving as
# it closes; and that of a connection that is never idle, which the drain
# closes once it has answered what came in its first second or two,
# rather than at --shutdown-timeout without lingering.
# sigterm_drain WHAT MODE LINE: drain_client in MODE against a single
# process, which must exit 0 having logged LINE.
sigterm_drain()
{
	rpcd_start -v --shutdown-timeout 30 || bail_out "rpcd did not start"
	drain_check "SIGTERM, $1" \
	    "$(drain_client "$RPCD_PORT" "$RPCD_PID" SIGTERM "$2")" 15
	wait "$RPCD_PID"
	is $? 0 "SIGTERM, $1: rpcd exits 0"
	RPCD_PID=
	ok_test "SIGTERM, $1: logged $3" grep -q "$3" "$RPCD_LOG"
}
sigterm_drain "requests pipelined as the drain closes" window \
    "lingering: shutting down"
sigterm_drain "a connection never idle" trickle \
    "lingering: shutting down: still sending"
rpcd_start -v -P 2 --shutdown-timeout 30 ||
    bail_out "rpcd -P 2 did not start"
drain_check "SIGHUP, the old worker's drain" \
    "$(drain_client "$RPCD_PORT" "$RPCD_PID" SIGHUP window)" 15
drain_check "SIGHUP again, a connection never idle" \
    "$(drain_client "$RPCD_PORT" "$RPCD_PID" SIGHUP trickle)" 15
ok_test "the old worker closed it for still sending, lingering" \
    grep -q 'worker [01]: debug: .*lingering: shutting down: still sending' \
    "$RPCD_LOG"
rpcd_stop
is $? 0 "and rpcd -P 2 exits 0"

# select(2) cannot watch descriptor 1024 (FD_SETSIZE) or above: glibc
# aborts the process that tries.  With that backend rpcd lowers its
# descriptor limit to FD_SETSIZE, so 1100 clients meet the out-of-descriptors
# pause instead of a crash, and those it took are still served.
if [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 2048 ]; then
	soft=$(ulimit -Sn)
	ulimit -Sn 2048
	EVENT_NOEPOLL=1 EVENT_NOPOLL=1 rpcd_start ||
	    bail_out "rpcd with select(2) did not start"
	is "$("$PYTHON3" - "$RPCD_PORT" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
body = b'{"in": "ping", "params": 1}'
frame = struct.pack("<I", len(body)) + body
reply = b'{"out": "pong", "result": 1}'
socks = [socket.create_connection(("127.0.0.1", port)) for i in range(1100)]
# The first connections were accepted before the limit: they are served.
for s in socks[:100]:
    s.sendall(frame)
n = 0
for s in socks[:100]:
    s.settimeout(30)
    if s.recv(100) == struct.pack("<I", len(reply)) + reply:
        n += 1
print(n, "of the first 100 answered")
EOF
)" "100 of the first 100 answered" \
	    "select(2): 1100 clients, the first 100 of them answered"
	ok_test "rpcd is still running" kill -0 "$RPCD_PID"
	ok_test "and it paused for want of descriptors" \
	    grep -q 'out of file descriptors: not accepting' "$RPCD_LOG"
	is "$(wire -n 1 "$RPCD_ADDR" 'j:{"in": "ping", "params": 2}')" \
	    '{"out": "pong", "result": 2}' \
	    "once they are gone, a new client is served"
	rpcd_stop
	is $? 0 "rpcd with select(2) exits 0"
	ulimit -Sn "$soft"
else
	for i in 1 2 3 4 5; do
		skip "the descriptor limit cannot be raised past 1024 (ulimit -Hn)"
	done
fi

# 20 clients connecting and closing as fast as they can against
# --max-conns 10: the limit is reached once per closed connection, but the
# log says so once per episode, not once per connection.
rpcd_start --max-conns 10 || bail_out "rpcd did not start"
"$PYTHON3" - "$RPCD_PORT" <<'EOF' &
import socket, struct, sys, threading, time
port = int(sys.argv[1])
body = b'{"in": "ping", "params": 1}'
frame = struct.pack("<I", len(body)) + body
end = time.monotonic() + 2
def churn():
    while time.monotonic() < end:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(frame)
        s.recv(100)
        s.close()
threads = [threading.Thread(target=churn) for i in range(20)]
for t in threads: t.start()
for t in threads: t.join()
EOF
churn=$!
wait "$churn"
is $? 0 "20 clients churned connections for 2 s against --max-conns 10"
wait_for 50 grep -q 'below --max-conns again' "$RPCD_LOG"
n=$(grep -c 'answered busy or left' "$RPCD_LOG")
ok_test "the limit was logged $n time(s), not once per connection" \
    test "$n" -ge 1 -a "$n" -le 10
ok_test "the end of the episode says how often the limit was reached" \
    grep -q 'was reached [0-9]* time(s)' "$RPCD_LOG"
rpcd_stop

done_testing
