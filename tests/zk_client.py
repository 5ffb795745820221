#!/usr/bin/python3
# ZooKeeper's side of tests/zk.sh, through kazoo (Debian's python3-kazoo):
# what the serverset at a path holds, and how long changes take.  Every
# wait is bounded by a deadline given in seconds; the exit status says
# whether the state came (0) or not (1).
#
#   up HOSTS SECONDS                 ZooKeeper answers
#   member HOSTS PATH SECONDS        one member: print it as JSON {"name",
#                                    "data", "owner"}, the owner being the
#                                    session of an ephemeral node, else 0
#   count HOSTS PATH                 print how many members there are
#   kill9 HOSTS PATH PID SECONDS     SIGKILL PID, print the seconds until
#                                    the member is gone
#   sigterm HOSTS PATH PID ADDR SECONDS
#                                    hold a connection to rpcd at ADDR
#                                    (host:port), idle after a ping,
#                                    SIGTERM PID, and print the seconds
#                                    until the member is gone and until
#                                    the connection closes, and whether
#                                    the member was gone when it closed
#   paused ZKPID PID ADDR SECONDS    the same with ZooKeeper (ZKPID)
#                                    stopped, so that it cannot confirm
#                                    the deletion: print the seconds until
#                                    the connection closes

import json
import os
import signal
import socket
import struct
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

POLL = 0.02     # s between two looks at ZooKeeper


def connect(hosts, seconds):
    zk = KazooClient(hosts=hosts, timeout=seconds)
    zk.start(timeout=seconds)
    return zk


def members(zk, path):
    try:
        return sorted(zk.get_children(path))
    except NoNodeError:
        return []


def wait_until(seconds, fn):
    end = time.monotonic() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(POLL)


def member(zk, path, seconds):
    def one():
        names = members(zk, path)
        return names if len(names) == 1 else None
    names = wait_until(seconds, one)
    if names is None:
        print("members of %s: %s" % (path, members(zk, path)),
              file=sys.stderr)
        return 1
    data, stat = zk.get(path + "/" + names[0])
    print(json.dumps({"name": names[0], "data": json.loads(data),
                      "owner": "%x" % stat.ephemeralOwner}))
    return 0


def kill9(zk, path, pid, seconds):
    if len(members(zk, path)) != 1:
        print("no member before the kill", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    if wait_until(seconds, lambda: not members(zk, path)) is None:
        print("member still there after %ss" % seconds, file=sys.stderr)
        return 1
    print("%.3f" % (time.monotonic() - t0))
    return 0


def pinged(addr, seconds):
    """A connection to rpcd at addr that has had a ping answered."""
    host, port = addr.rsplit(":", 1)
    conn = socket.create_connection((host, int(port)), timeout=seconds)
    body = b'{"in": "ping", "params": 1}'
    conn.sendall(struct.pack("<I", len(body)) + body)
    want = 4
    got = b""
    while len(got) < want:
        chunk = conn.recv(want - len(got))
        if not chunk:
            raise OSError("closed before the pong")
        got += chunk
        if len(got) == 4 and want == 4:
            want = 4 + struct.unpack("<I", got)[0]
    return conn


def eof(conn):
    """Wait for the end of file of an idle connection: True if it came."""
    try:
        return conn.recv(1) == b""
    except OSError as e:
        print("connection: %s" % e, file=sys.stderr)
        return False


def paused(zkpid, pid, addr, seconds):
    conn = pinged(addr, seconds)
    os.kill(zkpid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        closed = eof(conn)
        print("%.3f" % (time.monotonic() - t0))
    finally:
        os.kill(zkpid, signal.SIGCONT)
    conn.close()
    return 0 if closed else 1


def sigterm(zk, path, pid, addr, seconds):
    names = members(zk, path)
    if len(names) != 1:
        print("no member before SIGTERM", file=sys.stderr)
        return 1
    node = path + "/" + names[0]
    conn = pinged(addr, seconds)
    gone = threading.Event()
    when = {}

    def watch(event):
        when["gone"] = time.monotonic()
        gone.set()
    if zk.exists(node, watch=watch) is None:
        print("member gone before SIGTERM", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    closed_eof = eof(conn)
    closed = time.monotonic()
    absent = zk.exists(node) is None
    conn.close()
    if not gone.wait(seconds):
        print("no deletion seen in %ss" % seconds, file=sys.stderr)
        return 1
    print(json.dumps({"member_gone": round(when["gone"] - t0, 3),
                      "connection_closed": round(closed - t0, 3),
                      "absent_at_close": absent, "eof": closed_eof}))
    return 0


def main(argv):
    cmd, hosts = argv[1], argv[2]
    if cmd == "up":
        connect(hosts, float(argv[3])).stop()
        return 0
    if cmd == "paused":
        return paused(int(argv[2]), int(argv[3]), argv[4], float(argv[5]))
    zk = connect(hosts, 10)
    try:
        if cmd == "member":
            return member(zk, argv[3], float(argv[4]))
        if cmd == "put":
            zk.create(argv[3], argv[4].encode(), makepath=True)
            return 0
        if cmd == "count":
            print(len(members(zk, argv[3])))
            return 0
        if cmd == "kill9":
            return kill9(zk, argv[3], int(argv[4]), float(argv[5]))
        if cmd == "sigterm":
            return sigterm(zk, argv[3], int(argv[4]), argv[5],
                           float(argv[6]))
        print("unknown command %s" % cmd, file=sys.stderr)
        return 2
    finally:
        zk.stop()
        zk.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
