"""The contrib client's load in tests/zk_rolling.sh: calls of the test
module's "later" (answered 5 ms on), 8 unanswered at any time, through
contrib/zk/rpcd_discovery.py, until the file STOPFILE exists; then the
calls still out are awaited and a line says what came of them:
"calls N answered A wrong W failed F members M", M the members that
answered.  UPFILE is made once a call is answered.  Exit 0 only if every
call was answered with its own value.

    zk_rolling_load.py ZK_HOSTS PATH STOPFILE UPFILE
"""

import os
import sys

import rpcd_discovery


def main(hosts, path, stopfile, upfile):
    client = rpcd_discovery.Client(hosts, path, timeout=30)
    calls, answered, wrong, failed, members = [], 0, 0, 0, set()
    i = 0
    while not os.path.exists(stopfile) or calls:
        while len(calls) < 8 and not os.path.exists(stopfile):
            calls.append((i, client.submit("later", [5, i])))
            i += 1
        value, call = calls.pop(0)
        try:
            if call.result() == ("later", value):
                answered += 1
                members.add(call.member)
                if answered == 1:
                    open(upfile, "w").close()
            else:
                wrong += 1
        except rpcd_discovery.CallFailed:
            failed += 1
    client.close()
    print("calls %d answered %d wrong %d failed %d members %d"
          % (i, answered, wrong, failed, len(members)), flush=True)
    return 0 if answered == i else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
