#!/bin/sh
# Every example of rpcctl(1)'s EXAMPLES runs as written, from a scratch
# directory, and exits 0 with something on standard output and nothing
# on standard error.  Only the addresses change, to those of the servers
# started here: the default server (RPCCTL_SERVER) and 10.0.0.1:8080 are
# rpcd A (with the test module, for the mix's "echo"), 10.0.0.2:8080 is
# rpcd B, /run/rpcd.sock is A's Unix socket, and zk://.../services/rpcd
# is a serverset of both in a real ZooKeeper (tests/zk_lib.sh; those
# examples are skipped, saying why, without it, except in CI).  The
# files the examples read are made here: mix.txt is the mix the page
# shows under bench.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/zk_lib.sh"

page=$top_srcdir/man/rpcctl.1
example_block "$page" 1 | sed -n 's/^\$ //p' >"$TEST_DIR/examples"
n=$(wc -l <"$TEST_DIR/examples")
ok $([ "$n" -ge 10 ]; echo $?) "rpcctl(1) has $n examples"

lacks=$(zk_missing)
"$RPCD" --register zk://127.0.0.1:1/probe -n 2>&1 | grep -q without &&
    lacks="$lacks rpcd built with ZooKeeper"
[ -n "$lacks" ] && [ "${CI:-}" = true ] && bail_out "missing:$lacks, and CI=true"
register=
if [ -z "$lacks" ]; then
	zk_start
	register="--register zk://$ZK_HOSTS/services/rpcd"
fi

cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/testmod.so" ||
    bail_out "no testmod.so: make check builds it"
chmod 0755 "$TEST_DIR/testmod.so"
# shellcheck disable=SC2086
rpcd_start -l 127.0.0.1:0 -l "unix:$TEST_DIR/rpcd.sock" \
    -m "$TEST_DIR/testmod.so" $register || bail_out "rpcd A did not start"
A=$RPCD_ADDR
pids="$pids $RPCD_PID"
mv "$RPCD_LOG" "$TEST_DIR/a.log"
# shellcheck disable=SC2086
rpcd_start $register || bail_out "rpcd B did not start"
B=$RPCD_ADDR
pids="$pids $RPCD_PID"
RPCD_PID=
if [ -z "$lacks" ]; then
	two()
	{
		[ "$("$RPCCTL" members "zk://$ZK_HOSTS/services/rpcd" |
		    wc -l)" = 2 ]
	}
	wait_for 300 two || bail_out "A and B did not register"
fi

mkdir "$TEST_DIR/ex"
awk '/^\.Bd -literal/ { n = 0; inside = 1; next }
    /^\.Ed/ { inside = 0 }
    inside { b[++n] = $0 }
    inside && /^# weight method params$/ { mix = 1 }
    /^\.Ed/ && mix { for (i = 1; i <= n; i++) print b[i]; exit }' \
    "$page" >"$TEST_DIR/ex/mix.txt"
ok_test "the mix shown under bench, as mix.txt" grep -q '^[0-9]* echo ' \
    "$TEST_DIR/ex/mix.txt"
printf '%s\n' '{"in": "ping", "params": 1}' '{"in": "echo", "params": [2]}' \
    >"$TEST_DIR/ex/requests.jsonl"
echo '{"from": "a file"}' >"$TEST_DIR/ex/params.json"

# rpcctl as the page names it: the one built, first in PATH.
bin=$(cd "$(dirname "$RPCCTL")" && pwd)
i=0
while IFS= read -r example; do
	i=$((i + 1))
	case $example in
	*zk://*)
		if [ -n "$lacks" ]; then
			skip "example $i needs ZooKeeper, missing:$lacks"
			continue
		fi
		;;
	esac
	line=$(printf '%s\n' "$example" | sed \
	    -e "s|unix:/run/rpcd.sock|unix:$TEST_DIR/rpcd.sock|" \
	    -e "s|10\.0\.0\.1:8080|$A|" -e "s|10\.0\.0\.2:8080|$B|" \
	    -e "s|zk://[^/ ]*/services/rpcd|zk://$ZK_HOSTS/services/rpcd|")
	(cd "$TEST_DIR/ex" && PATH=$bin:$PATH \
	    RPCCTL_SERVER=$A sh -c "$line" </dev/null >"$TEST_DIR/out" \
	    2>"$TEST_DIR/err")
	status=$?
	# echo(1) in dash reads backslashes: doubled, they print as typed.
	said=$(printf '%s\n' "$example" | sed 's/\\/\\\\/g')
	ok $([ $status = 0 ] && [ -s "$TEST_DIR/out" ] &&
	    [ ! -s "$TEST_DIR/err" ]; echo $?) "example $i: $said" || {
		diag "exit $status, as run: $line"
		diag_file <"$TEST_DIR/out"
		diag_file <"$TEST_DIR/err"
	}
done <"$TEST_DIR/examples"
is "$i" "$n" "every example was run"

done_testing
