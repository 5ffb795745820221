"""Calls go one way: the file-level call graph of the built objects.

For every object of rpcd and rpcctl, nm(1) tells the functions (and
variables) it defines and those it leaves undefined; a file calls another
when it leaves undefined a symbol the other defines.  rpcd's files must
call only files of their own layer or below, as the table at the top of
server/rpcd.h orders them (and each file's opening comment names its
layer), and no files of either program may reach each other round a
circle.  The checker is first tried on a made-up graph
with an up-call and a circle, so that a checker that finds nothing fails.

usage: layers_graph.py TOP_SRCDIR TOP_BUILDDIR
"""

import os
import re
import subprocess
import sys

from rpcdtest import Tap


def layer_table(rpcd_h):
    """[(layer, [file.c, ...])], top first, from rpcd.h's opening table."""
    table = []
    for line in open(rpcd_h):
        m = re.match(r"^ \*\t([a-z]+)\t+((?:[a-z_]+\.c ?)+)$", line)
        if m:
            table.append((m.group(1), m.group(2).split()))
    return table


def nm(obj, flags):
    out = subprocess.run(["nm"] + flags + [obj], capture_output=True,
                         text=True, check=True).stdout
    return {f[-1] for f in (line.split() for line in out.splitlines()) if f}


def call_graph(objs):
    """{file: {file it calls: [symbols]}} of objs, {file.c: path.o}."""
    owner = {}
    for name, obj in objs.items():
        for sym in nm(obj, ["--defined-only", "--extern-only"]):
            owner[sym] = name
    graph = {name: {} for name in objs}
    for name, obj in objs.items():
        for sym in sorted(nm(obj, ["--undefined-only"])):
            to = owner.get(sym)
            if to is not None and to != name:
                graph[name].setdefault(to, []).append(sym)
    return graph


def up_calls(graph, rank):
    """Calls from a file to one of a higher layer (a smaller rank)."""
    return ["%s -> %s: %s" % (a, b, " ".join(syms))
            for a in sorted(graph) for b, syms in sorted(graph[a].items())
            if rank[b] < rank[a]]


def circles(graph):
    """The strongly connected sets of more than one file (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                found.append(sorted(scc))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def show(t, graph):
    for a in sorted(graph):
        for b, syms in sorted(graph[a].items()):
            t.diag("%s -> %s: %s" % (a, b, " ".join(syms)))


def main():
    src, build = sys.argv[1], sys.argv[2]
    t = Tap()

    made_up = {"a.c": {"b.c": ["b_f"]}, "b.c": {"c.c": ["c_f"]},
               "c.c": {"a.c": ["a_f"]}, "d.c": {}}
    t.ok(circles(made_up) == [["a.c", "b.c", "c.c"]] and
         up_calls(made_up, {"a.c": 0, "b.c": 1, "c.c": 2, "d.c": 2}) ==
         ["c.c -> a.c: a_f"],
         "the checker finds a made-up circle and up-call")

    table = layer_table(os.path.join(src, "server", "rpcd.h"))
    listed = [f for _, files in table for f in files]
    sources = sorted(f for f in os.listdir(os.path.join(src, "server"))
                     if f.endswith(".c"))
    t.ok(len(table) >= 4 and sorted(listed) == sources,
         "server/rpcd.h's table puts each of the %d files of server/ in "
         "one of %d layers" % (len(sources), len(table)))
    if sorted(listed) != sources:
        t.diag("in the table: %s" % " ".join(sorted(listed)))
        t.diag("in server/:   %s" % " ".join(sources))

    wrong = []
    for name, files in table:
        for f in files:
            path = os.path.join(src, "server", f)
            if os.path.exists(path) and \
                    " * Layer: %s (server/rpcd.h)." % name not in open(path).read():
                wrong.append(f)
    t.ok(not wrong, "each file's opening comment names its layer")
    if wrong:
        t.diag("no \"Layer:\" line of the table's layer: " + " ".join(wrong))

    rank = {f: i for i, (_, files) in enumerate(table) for f in files}
    server = call_graph({f: os.path.join(build, "server", "rpcd-" +
                                         f[:-2] + ".o") for f in sources})
    bad = up_calls(server, rank)
    t.ok(not bad, "no file of server/ calls a file of a layer above it")
    for line in bad:
        t.diag(line)
    found = circles(server)
    t.ok(not found, "no circle of calls between the files of server/")
    for scc in found:
        t.diag("circle: " + " ".join(scc))
    if bad or found:
        show(t, server)

    client_dir = os.path.join(src, "client")
    client = call_graph({f: os.path.join(build, "client", "rpcctl-" +
                                         f[:-2] + ".o")
                         for f in sorted(os.listdir(client_dir))
                         if f.endswith(".c")})
    found = circles(client)
    t.ok(not found, "no circle of calls between the files of client/")
    for scc in found:
        t.diag("circle: " + " ".join(scc))
    if found:
        show(t, client)
    t.done()


main()
