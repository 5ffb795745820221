#!/usr/bin/env python3
# The original Python tutorial's client, ported to Python 3 and unchanged
# otherwise: ten pings on one connection, each sent as a 4-byte length
# (struct.pack("I")) and a JSON body in two writes, each reply read as
# recv(4) then recv(length).  Host and port may be given on the command
# line so the tests can point it at an ephemeral port.

import json
import socket
import struct
import sys


def rpc(sock, in_, params):
    request = json.dumps({"in": in_, "params": params})
    length_prefix = struct.pack("I", len(request))
    sock.send(length_prefix)
    sock.sendall(request.encode())
    length_prefix = sock.recv(4)
    length, = struct.unpack("I", length_prefix)
    body = sock.recv(length)
    response = json.loads(body)
    return response["out"], response["result"]


if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else "localhost"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8080
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((host, port))
    for i in range(10):
        out, result = rpc(s, "ping", "ireader %d" % i)
        print(out, result)
    s.close()
