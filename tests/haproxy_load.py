#!/usr/bin/env python3
# The client load of tests/haproxy.sh: CONNS connections to HOST:PORT, each
# keeping PIPELINE pings in flight, each ping's params a number of its own
# that its pong must echo, in order.  A connection that closes or breaks
# counts its pings in flight as failed and is opened again at once.  After
# SIGUSR2 (acknowledged by a line "resending") it sends them again on the
# new connection instead, as a client may when the server closed it (see
# rpc-protocol(7)), and counts them as resent; each resent ping's number
# goes to standard error as "resent N".
#
#   haproxy_load.py HOST PORT CONNS PIPELINE [SOURCE]
#
# SOURCE is the loopback address to connect from (default any).  Prints
# "ready" once every connection has had a reply.  SIGUSR1 prints "mark
# sent=S answered=A failed=F inflight=I reconnects=R resent=E", SIGTERM
# the same line as "final" and exits; sent = answered + failed + inflight
# always.  A wrong reply ends the run with exit 1.

import json
import selectors
import signal
import socket
import struct
import sys
import time

host, port, nconns, pipeline = (sys.argv[1], int(sys.argv[2]),
                                int(sys.argv[3]), int(sys.argv[4]))
source = (sys.argv[5], 0) if len(sys.argv) > 5 else None
counts = {"sent": 0, "answered": 0, "failed": 0, "reconnects": 0,
          "resent": 0}
flags = {"mark": False, "stop": False, "resend": False, "resending": False}
sel = selectors.DefaultSelector()
next_id = [0]


def report(kind):
    inflight = sum(len(c.queue) for c in conns)
    print("%s sent=%d answered=%d failed=%d inflight=%d reconnects=%d "
          "resent=%d" % (kind, counts["sent"], counts["answered"],
                         counts["failed"], inflight, counts["reconnects"],
                         counts["resent"]), flush=True)


class Conn:
    def __init__(self):
        self.sock = None
        self.queue = []
        self.answered = 0
        self.open()

    def open(self, unanswered=()):
        self.sock = socket.create_connection((host, port), timeout=5,
                                             source_address=source)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buf = b""
        self.out = b""
        sel.register(self.sock, selectors.EVENT_READ, self)
        for n in unanswered:
            print("resent %d" % n, file=sys.stderr, flush=True)
            self.put(n)
        counts["resent"] += len(unanswered)
        self.send(pipeline - len(unanswered))

    def put(self, n):
        body = json.dumps({"in": "ping", "params": n}).encode()
        self.out += struct.pack("<I", len(body)) + body
        self.queue.append(n)

    def send(self, n):
        for _ in range(n):
            next_id[0] += 1
            self.put(next_id[0])
            counts["sent"] += 1
        self.flush()

    def flush(self):
        try:
            while self.out:
                self.out = self.out[self.sock.send(self.out):]
        except BlockingIOError:
            sel.modify(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE,
                       self)
            return
        except OSError:
            return      # the read side finds the close
        sel.modify(self.sock, selectors.EVENT_READ, self)

    def lost(self):
        unanswered = self.queue if flags["resend"] else []
        if not flags["resend"]:
            counts["failed"] += len(self.queue)
        counts["reconnects"] += 1
        self.queue = []
        sel.unregister(self.sock)
        self.sock.close()
        self.open(unanswered)

    def readable(self):
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.lost()
            return
        self.buf += data
        replies = 0
        while len(self.buf) >= 4:
            n = struct.unpack("<I", self.buf[:4])[0]
            if len(self.buf) < 4 + n:
                break
            reply = json.loads(self.buf[4:4 + n])
            self.buf = self.buf[4 + n:]
            want = self.queue.pop(0)
            if reply != {"out": "pong", "result": want}:
                print("wrong reply %r to ping %d" % (reply, want),
                      file=sys.stderr)
                sys.exit(1)
            counts["answered"] += 1
            self.answered += 1
            replies += 1
        # Answer at once, before any close is seen: a close then finds
        # PIPELINE pings in flight, always.
        self.send(replies)


def on_signal(sig, frame):
    flags[{signal.SIGUSR1: "mark", signal.SIGUSR2: "resending",
           signal.SIGTERM: "stop"}[sig]] = True


signal.signal(signal.SIGUSR1, on_signal)
signal.signal(signal.SIGUSR2, on_signal)
signal.signal(signal.SIGTERM, on_signal)
conns = [Conn() for _ in range(nconns)]
ready = False
while not flags["stop"]:
    # Paced: replies pile up in the sockets between rounds, and the load
    # leaves the machine to the servers, haproxy and its checks.
    time.sleep(0.002)
    for key, events in sel.select(0.05):
        conn = key.data
        if events & selectors.EVENT_WRITE:
            conn.flush()
        if events & selectors.EVENT_READ:
            conn.readable()
    if not ready and all(c.answered > 0 for c in conns):
        ready = True
        print("ready", flush=True)
    if flags["resending"] and not flags["resend"]:
        flags["resend"] = True
        print("resending", flush=True)
    if flags["mark"]:
        flags["mark"] = False
        report("mark")
report("final")
