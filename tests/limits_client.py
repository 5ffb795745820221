#!/usr/bin/env python3
# Clients for tests/limits.sh: an ordinary client that measures its own
# speed, and the hostile ones held to their limits beside it.
#
#   conns ADDR N [SRC,...]   open N connections, each with a ping; print
#                            each one's answer: pong or the error code;
#                            then, with "hold" last, keep them open until
#                            standard input ends
#   rate ADDR N              pipeline N pings on one connection; print
#                            the answers and the seconds they took
#   speed ADDR COUNT SRC     COUNT pings, one at a time, from source
#                            address SRC; print the requests per second
#   flood ADDR SRC           pipeline pings from SRC, never reading, until
#                            killed
#   connflood ADDR SRC       open connections from SRC past any limit,
#                            each with a ping, CONNECTS a second, until
#                            killed
#   spoof ADDR               connect and send PROXY headers naming other
#                            clients, CONNECTS a second, until killed
#
# ADDR is HOST:PORT or unix:PATH.  The SRCs of conns, where given, are
# sent in turn as PROXY v1 headers naming those clients.
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpcdtest  # noqa: E402


def connect(addr, src=None):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(addr[5:])
        return s
    host, port = addr.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src is not None:
        s.bind((src, 0))
    s.settimeout(30)
    s.connect((host, int(port)))
    return s


def word(reply):
    """pong, the error code of an error reply, or closed."""
    if reply is None:
        return "closed"
    if reply["out"] == "pong":
        return "pong"
    return reply["result"]["code"]


def answer(s):
    return word(rpcdtest.recv_reply(s))


def conns(addr, n, srcs, hold):
    held = []
    for i in range(n):
        s = connect(addr)
        try:
            if srcs:
                s.sendall(("PROXY TCP4 %s 127.0.0.1 %d 8080\r\n"
                           % (srcs[i % len(srcs)], 40000 + i)).encode())
            s.sendall(rpcdtest.request("ping", i))
            print(answer(s))
        except OSError:
            print("closed")
        held.append(s)
    sys.stdout.flush()
    if hold:
        sys.stdin.read()


def rate(addr, n):
    s = connect(addr)
    start = time.monotonic()
    s.sendall(b"".join(rpcdtest.request("ping", i) for i in range(n)))
    got = sum(1 for _ in range(n) if answer(s) == "pong")
    print(got, "%.3f" % (time.monotonic() - start))


def speed(addr, count, src):
    s = connect(addr, src)
    ping = rpcdtest.request("ping", 1)
    start = time.monotonic()
    for _ in range(count):
        s.sendall(ping)
        if answer(s) != "pong":
            sys.exit("speed: a ping not answered pong")
    print("%d" % (count / (time.monotonic() - start)))


def flood(addr, src):
    s = connect(addr, src)
    batch = b"".join(rpcdtest.request("ping", i) for i in range(256))
    while True:
        s.sendall(batch)


# Connections a second of connflood and spoof: as a hostile client would
# open them, not as fast as a CPU can, where the kernel's own work for
# each connection would be what the test measured.
CONNECTS = 1000


def paced(attempt):
    """attempt(i) for i = 1, 2, ..., CONNECTS a second, until killed; a
    refused or reset connection is the next one's turn."""
    start = time.monotonic()
    i = 0
    while True:
        i += 1
        due = start + i / CONNECTS
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        try:
            attempt(i)
        except OSError:
            pass


def connflood(addr, src):
    held = []

    def attempt(i):
        s = connect(addr, src)
        s.sendall(rpcdtest.request("ping", 1))
        rpcdtest.recv_reply(s)
        held.append(s)
        if len(held) > 100:
            held.pop(0).close()
    paced(attempt)


def spoof(addr):
    def attempt(i):
        s = connect(addr)
        s.sendall(("PROXY TCP4 10.%d.%d.1 127.0.0.1 1000 8080\r\n"
                   % (i // 256 % 256, i % 256)).encode()
                  + rpcdtest.request("ping", i))
        rpcdtest.recv_reply(s)
        s.close()
    paced(attempt)


def main():
    mode, addr = sys.argv[1], sys.argv[2]
    if mode == "conns":
        args = sys.argv[4:]
        hold = args[-1:] == ["hold"]
        if hold:
            args = args[:-1]
        conns(addr, int(sys.argv[3]), args[0].split(",") if args else [],
              hold)
    elif mode == "rate":
        rate(addr, int(sys.argv[3]))
    elif mode == "speed":
        speed(addr, int(sys.argv[3]), sys.argv[4])
    elif mode == "flood":
        flood(addr, sys.argv[3])
    elif mode == "connflood":
        connflood(addr, sys.argv[3])
    elif mode == "spoof":
        spoof(addr)
    else:
        sys.exit("limits_client.py: unknown mode " + mode)


if __name__ == "__main__":
    main()
