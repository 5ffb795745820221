#!/bin/sh
# rpcctl's bash completion offers exactly the commands and options that
# rpcctl itself accepts, and completes "call" with the methods of the
# server the command line names.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

command -v bash >/dev/null 2>&1 || skip_all "bash not found"
rpcctl=$top_builddir/client/rpcctl
[ -x "$rpcctl" ] || skip_all "rpcctl is not built"
script=$top_srcdir/contrib/bash-completion/rpcctl

# complete LINE: the candidates the script offers at the end of LINE,
# sorted, one per line.
complete_line()
{
	bash -c '. "$1" || exit 1
	    COMP_LINE=$2; COMP_POINT=${#2}; _rpcctl
	    printf "%s\n" "${COMPREPLY[@]}"' sh "$script" "$1" |
	    sed '/^$/d' | sort
}

ok_test "the script passes bash -n" bash -n "$script"
ok_test "sourcing it registers the rpcctl completion" \
    bash -c '. "$1" && complete -p rpcctl >/dev/null' sh "$script"

want=$("$rpcctl" --help | sed -n '/^commands:/,/^$/p' |
    awk 'NR > 1 && /^  [a-z]/ { print $1 }' | sort)
is "$(complete_line "rpcctl ")" "$want" "commands are those of rpcctl --help"

"$rpcctl" --help | grep -o -e '^ *-[A-Za-z]' -e '[ ,]--[a-z][a-z-]*' |
    tr -d ' ,' | sort -u >"$TEST_DIR/globals"
is "$(complete_line "rpcctl -")" "$(cat "$TEST_DIR/globals")" \
    "global options are those of rpcctl --help"

# After the command's name: its own options and the global ones, which
# rpcctl takes there too.
for cmd in ping bench stats batch call methods members help; do
	want=$("$rpcctl" help "$cmd" | sed -n '/^usage:/,/^$/p' |
	    grep -o -e '[[ |]-[A-Za-z]\>' -e '[[ |]--[a-z][a-z-]*' |
	    tr -d '[ |' | sort -u - "$TEST_DIR/globals")
	is "$(complete_line "rpcctl -t 2 $cmd -")" "$want" \
	    "$cmd's options are those of rpcctl help $cmd and the global ones"
done
is "$(complete_line "rpcctl ping -c 2 --jso")" "--json" \
    "a global option after the command and an option of its own"
is "$(complete_line "rpcctl call ping -")" "-" \
    "no options after a command's first argument"
: >"$TEST_DIR/params.json"
is "$(complete_line "rpcctl call -r 2 ping @$TEST_DIR/par")" \
    "@$TEST_DIR/params.json" "call completes @FILE with files, after -r's value"

is "$(complete_line "rpcctl -S 127.0.0.1:1 hel")" "help" \
    "a host:port argument does not hide the command"
is "$(complete_line "rpcctl ping -c ")" "" "no candidates for an option's value"

rpcd_start
want=$(printf '%s\n' methods ping stats)
is "$(complete_line "$rpcctl -S $RPCD_ADDR call ")" "$want" \
    "call completes the server's methods"
is "$(complete_line "$rpcctl --port $RPCD_PORT call p")" "ping" \
    "call completes a method's prefix, with the server from --port"
is "$(complete_line "$rpcctl -S $RPCD_ADDR bench -c 2 --method p")" "ping" \
    "bench --method completes the server's methods"
is "$(complete_line "$rpcctl call -t 2 -S $RPCD_ADDR ")" "$want" \
    "call completes the methods of a server given after the command"
rpcd_stop

done_testing
