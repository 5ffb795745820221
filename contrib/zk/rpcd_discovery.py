#!/usr/bin/python3
"""Call rpcd servers found in ZooKeeper, as the tutorial's client would next.

rpcd --register zk://HOSTS/PATH keeps one ephemeral member under PATH per
server, holding a Finagle/Aurora serverset member in JSON.  Client watches
PATH's children through kazoo, keeps one connection to each ALIVE member's
serviceEndpoint, and sends each call to the next member in turn (round
robin), several at once on a connection if the caller wants (pipelining:
rpcd answers in the order of the requests).

A member that leaves the serverset (rpcd deletes it first thing on SIGTERM)
gets no new calls; its connection is closed once its calls are answered.
What a closed or reset connection leaves unanswered is sent again to
another member: a call fails only if no member answers it within its
timeout.  So a call may run twice, if a member dies after running it but
before its answer arrived: at-least-once, not exactly-once.

    import rpcd_discovery
    client = rpcd_discovery.Client("127.0.0.1:2181", "/rpcd/prod")
    out, result = client.call("ping", "hello")
    calls = [client.submit("ping", i) for i in range(100)]
    answers = [c.result() for c in calls]
    client.close()

Or from the shell:

    python3 rpcd_discovery.py zk://127.0.0.1:2181/rpcd/prod ping '"hi"' \\
        --count 10

Needs Python 3 and kazoo (Debian's python3-kazoo).
"""

import argparse
import collections
import json
import logging
import socket
import struct
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

CONNECT_TIMEOUT = 3     # s to connect to a member
RECONNECT_DELAY = 1     # s before a listed member not connected is tried again
MAX_REPLY = 16 << 20    # bytes: a longer reply frame is a broken server
WINDOW = 64             # calls the command line keeps unanswered at once

log = logging.getLogger("rpcd_discovery")


class CallFailed(Exception):
    """No member answered the call within its timeout."""


def frame(method, params=None):
    """A request: a 4-byte little-endian length, then the JSON."""
    body = json.dumps({"in": method, "params": params}).encode()
    return struct.pack("<I", len(body)) + body


def parse_url(url):
    """zk://HOST:PORT[,HOST:PORT...]/PATH as (hosts, path)."""
    if not url.startswith("zk://") or "/" not in url[5:]:
        raise ValueError("%s: expected zk://HOST:PORT[,HOST:PORT...]/PATH"
                         % url)
    hosts, path = url[5:].split("/", 1)
    if not hosts or not path or path.endswith("/"):
        raise ValueError("%s: expected zk://HOST:PORT[,HOST:PORT...]/PATH"
                         % url)
    return hosts, "/" + path


class Call:
    """One call: sent, and sent again, until a member answers or time is up."""

    def __init__(self, method, params, timeout):
        self.request = frame(method, params)
        self.deadline = time.monotonic() + timeout
        self.reply = None       # the answer: {"out": ..., "result": ...}
        self.member = None      # the name of the member that answered
        self.sends = 0          # how many times it was sent
        self._error = None
        self._done = threading.Event()
        self._lock = threading.Lock()

    def done(self):
        return self._done.is_set()

    def answer(self, reply, member):
        with self._lock:
            if self._done.is_set():
                return
            self.reply = reply
            self.member = member
            self._done.set()

    def fail(self, why):
        with self._lock:
            if self._done.is_set():
                return
            self._error = why
            self._done.set()

    def result(self):
        """Wait for the answer and return (out, result), as the tutorial's
        rpc() does; an error reply is an answer too.  Raise CallFailed if
        none came in time."""
        self._done.wait(max(0, self.deadline - time.monotonic()))
        self.fail("no member answered in time")
        if self.reply is None:
            raise CallFailed(self._error)
        return self.reply["out"], self.reply.get("result")


class Member:
    """One rpcd of the serverset, and the connection to it."""

    def __init__(self, client, name, host, port):
        self.client = client
        self.name = name
        self.address = (host, port)
        self.sock = socket.create_connection(self.address, CONNECT_TIMEOUT)
        self.sock.settimeout(None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = collections.deque()  # calls sent, in order
        self.closed = False
        self.leaving = False
        # Two locks: sendall() may block on a server that does not read
        # while its replies wait for us, and the reader must still take
        # the next pending call to read them.
        self.lock = threading.Lock()        # pending, closed, leaving
        self.send_lock = threading.Lock()   # one request at a time
        self.reader = threading.Thread(target=self._read, daemon=True,
                                       name="rpcd %s" % name)

    def start(self):
        self.reader.start()

    def send(self, call):
        """Send a call; False if the connection is closed already."""
        with self.send_lock:
            with self.lock:
                if self.closed:
                    return False
                # Before it is sent, so that its reply finds it.
                self.pending.append(call)
                call.sends += 1
            try:
                self.sock.sendall(call.request)
                return True
            except OSError as e:
                why = e
        # Outside send_lock: _fail() sends the pending calls elsewhere.
        self._fail("cannot send: %s" % why)
        return True

    def leave(self):
        """Gone from the serverset: close once the calls sent are answered."""
        with self.lock:
            self.leaving = True
            idle = not self.pending
        if idle:
            self._fail("left the serverset")

    def _recv(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("closed by the server")
            data += chunk
        return data

    def _read(self):
        """Read replies, each for the oldest call unanswered."""
        why = "left the serverset"
        try:
            while True:
                length, = struct.unpack("<I", self._recv(4))
                if length > MAX_REPLY:
                    raise ValueError("a reply of %d bytes" % length)
                reply = json.loads(self._recv(length))
                if not isinstance(reply, dict) or \
                        not isinstance(reply.get("out"), str):
                    raise ValueError("a reply without \"out\"")
                with self.lock:
                    if not self.pending:
                        raise ValueError("a reply to no call")
                    call = self.pending.popleft()
                    last = self.leaving and not self.pending
                call.answer(reply, self.name)
                self.client._answered(self)
                if last:
                    break
        # RecursionError: JSON nested deeper than Python's stack allows.
        except (OSError, EOFError, ValueError, RecursionError) as e:
            why = str(e) or type(e).__name__
        self._fail(why)
        self.sock.close()

    def _fail(self, why):
        """Close the connection once, handing its unanswered calls back."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            lost = list(self.pending)
            self.pending.clear()
        # Wakes the reader, which alone closes the socket.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.client._lost(self, why, lost)


class Client:
    """The members of the serverset at path, and calls spread over them."""

    def __init__(self, hosts, path, timeout=10):
        self.path = path
        self.timeout = timeout      # s for a call to be answered
        self.resent = 0             # calls sent again after a lost connection
        self.answers = collections.Counter()    # member name: calls answered
        self._members = {}          # name: Member, connected
        self._leaving = set()       # Members gone from PATH, still open
        self._turns = 0             # for round robin
        self._waiting = []          # calls no member could take yet
        self._listed = set()        # PATH's children, as last watched
        self._ignored = set()       # those not ALIVE members, not read again
        self._closing = False
        self._timer = None
        self._lock = threading.Condition()
        self._update_lock = threading.Lock()    # one _update() at a time
        self.zk = KazooClient(hosts=hosts, timeout=timeout)
        self.zk.start(timeout=timeout)
        try:
            # The watch needs PATH: made (empty) if no rpcd registered yet.
            self.zk.ensure_path(path)
            self.zk.ChildrenWatch(path, self._children)
        except KazooException:
            self.close()
            raise

    def members(self):
        """The members connected: {name: (host, port)}."""
        with self._lock:
            return {n: m.address for n, m in self._members.items()}

    def wait_members(self, n, timeout):
        """Wait until n members are connected; True if they are."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self._members) == n,
                                       timeout)

    def submit(self, method, params=None, timeout=None):
        """Send a call and return it at once: its result() waits."""
        call = Call(method, params,
                    self.timeout if timeout is None else timeout)
        self._dispatch(call)
        return call

    def call(self, method, params=None, timeout=None):
        """Send a call and return (out, result) once answered."""
        return self.submit(method, params, timeout).result()

    def close(self):
        """Stop watching and close every connection."""
        with self._lock:
            self._closing = True
            members = list(self._members.values()) + list(self._leaving)
            waiting, self._waiting = self._waiting, []
            if self._timer is not None:
                self._timer.cancel()
        for call in waiting:
            call.fail("the client was closed")
        self.zk.stop()
        self.zk.close()
        for member in members:
            member._fail("the client was closed")
            member.reader.join()

    def _dispatch(self, call):
        """Send a call to the next member, or keep it until one comes."""
        while not call.done():
            with self._lock:
                if self._closing:
                    call.fail("the client was closed")
                    return
                live = [m for m in self._members.values() if not m.closed]
                if not live:
                    self._waiting.append(call)
                    return
                member = live[self._turns % len(live)]
                self._turns += 1
            if member.send(call):
                return

    def _answered(self, member):
        with self._lock:
            self.answers[member.name] += 1

    def _lost(self, member, why, calls):
        """A connection closed: its calls go to the others."""
        with self._lock:
            if self._members.get(member.name) is member:
                del self._members[member.name]
                self._lock.notify_all()
            self._leaving.discard(member)
            retry = member.name in self._listed
            closing = self._closing
            calls = [c for c in calls if not c.done()]
            if not closing:
                self.resent += len(calls)
        if not closing and (calls or not member.leaving):
            log.warning("%s %s:%d: %s; %d calls sent again", member.name,
                        member.address[0], member.address[1], why,
                        len(calls))
        elif not closing:
            log.info("%s: closed, %s", member.name, why)
        # Closing, _dispatch() fails them.
        for call in calls:
            self._dispatch(call)
        if retry:
            self._retry_later()

    def _children(self, names):
        """ChildrenWatch's callback: PATH's children now."""
        with self._update_lock:
            with self._lock:
                if self._closing:
                    return False
                self._listed = set(names)
            self._update()
        return True

    def _retry_later(self):
        with self._lock:
            if self._timer is not None or self._closing:
                return
            self._timer = threading.Timer(RECONNECT_DELAY, self._retry)
            self._timer.daemon = True
            self._timer.start()

    def _retry(self):
        with self._lock:
            self._timer = None
        with self._update_lock:
            self._update()

    def _update(self):
        """Connect to the members listed, leave those no longer listed."""
        with self._lock:
            gone = [m for n, m in self._members.items()
                    if n not in self._listed]
            for m in gone:
                del self._members[m.name]
                self._leaving.add(m)
            self._ignored &= self._listed
            todo = sorted(self._listed - set(self._members) - self._ignored)
            self._lock.notify_all()
        for member in gone:
            log.info("%s: left the serverset", member.name)
            member.leave()
        missed = False
        for name in todo:
            endpoint = self._endpoint(name)
            if endpoint is None:
                self._ignored.add(name)
                continue
            try:
                member = Member(self, name, *endpoint)
            except OSError as e:
                log.warning("%s %s:%d: %s", name, endpoint[0], endpoint[1],
                            e)
                missed = True
                continue
            with self._lock:
                if self._closing or name not in self._listed:
                    member.sock.close()
                    continue
                self._members[name] = member
                waiting, self._waiting = self._waiting, []
                self._lock.notify_all()
            log.info("%s: connected to %s:%d", name, *endpoint)
            member.start()
            for call in waiting:
                self._dispatch(call)
        if missed:
            self._retry_later()

    def _endpoint(self, name):
        """The (host, port) of an ALIVE member, else None."""
        try:
            data, _ = self.zk.get("%s/%s" % (self.path, name))
            member = json.loads(data)
            if member.get("status") != "ALIVE":
                return None
            endpoint = member["serviceEndpoint"]
            host, port = endpoint["host"], endpoint["port"]
            if not isinstance(host, str) or not isinstance(port, int) or \
                    not 0 < port < 65536:
                raise ValueError("bad serviceEndpoint")
            return host, port
        except NoNodeError:
            return None     # gone meanwhile
        except (KazooException, ValueError, TypeError, KeyError,
                AttributeError, RecursionError) as e:
            log.warning("%s: not a serverset member: %s", name, e)
            return None


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Call rpcd servers registered in ZooKeeper, spread "
        "round robin, and print each reply as a line of JSON.")
    p.add_argument("url", help="zk://HOST:PORT[,HOST:PORT...]/PATH")
    p.add_argument("method")
    p.add_argument("params", nargs="?", default="null",
                   help="the params, in JSON (default null)")
    p.add_argument("--count", type=int, default=1,
                   help="calls to make, up to %d at once (default 1)"
                   % WINDOW)
    p.add_argument("--timeout", type=float, default=10,
                   help="seconds for each call to be answered, resent "
                   "included (default 10)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="say which member comes and goes, and who answered")
    args = p.parse_args(argv)
    try:
        hosts, path = parse_url(args.url)
    except ValueError as e:
        p.error(str(e))
    try:
        params = json.loads(args.params)
    except (ValueError, RecursionError) as e:
        p.error("params: not JSON: %s" % e)
    if not 1 <= args.count <= 10000000 or not 0 < args.timeout <= 86400:
        p.error("--count is 1 to 10000000, --timeout 0 to 86400 seconds")
    logging.basicConfig(format="%(name)s: %(message)s",
                        level=logging.INFO if args.verbose else
                        logging.WARNING)
    # kazoo's retries are its own business unless asked.
    logging.getLogger("kazoo").setLevel(logging.WARNING if args.verbose
                                        else logging.CRITICAL)

    try:
        client = Client(hosts, path, timeout=args.timeout)
    except (KazooException, KazooTimeoutError) as e:
        print("rpcd_discovery: ZooKeeper at %s: %s" % (hosts, e or
              type(e).__name__), file=sys.stderr)
        return 1
    bad = 0
    calls = collections.deque()
    for i in range(args.count):
        calls.append(client.submit(args.method, params))
        while calls and (len(calls) == WINDOW or i == args.count - 1):
            try:
                out, result = calls.popleft().result()
                print(json.dumps({"out": out, "result": result}))
                bad += out == "error"
            except CallFailed as e:
                print("rpcd_discovery: %s" % e, file=sys.stderr)
                bad += 1
    if args.verbose:
        print("rpcd_discovery: answered by %s; %d sent again" %
              (", ".join("%s %d" % a for a in
                         sorted(client.answers.items())) or "none",
               client.resent), file=sys.stderr)
    client.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
