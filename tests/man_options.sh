#!/bin/sh
# The pages and the programs agree: every option --help prints is in the
# page's option list, and every option listed there is in --help.  For
# rpcctl the same holds for each command: the commands --help lists are the
# page's COMMANDS, and each command's options in `rpcctl help CMD` are the
# options on its entry in the page.  rpcd's directives are those of
# rpcd.conf.5, asked both of rpcd -n and of the file reader itself.  A
# program not built yet is skipped.

. "${top_srcdir:-.}/tests/tap.sh"

work=$(mktemp -d) || bail_out "mktemp"
trap 'rm -rf "$work"' EXIT

# Options of a --help text as "-x" and "--long" words, one per line, sorted:
# the option table's lines start with "-x" or "  -x, --long".
help_options()
{
	grep -o -e '^ *-[A-Za-z]' -e '[ ,]--[a-z][a-z-]*' |
	    tr -d ' ,' | sort -u
}

# Options of a usage line: every "-x" or "--long" word in it.
usage_options()
{
	grep -o -e '[[ |]-[A-Za-z]\>' -e '[[ |]--[a-z][a-z-]*' |
	    tr -d '[ |' | sort -u
}

# Options in the first option list of a page (the .It Fl lines).
page_options()
{
	grep '^\.It Fl ' "$1" | grep -o 'Fl -\{0,1\}[A-Za-z][a-z-]*' |
	    sed 's/^Fl /-/' | sort -u
}

# The .Fl options on the head of command $2's entry in the COMMANDS list
# of page $1: its ".It Cm cmd ..." line, or its ".It Xo" ... ".Xc" block.
page_command_options()
{
	awk -v cmd="$2" '
	    /^\.Sh / { in_cmds = ($2 == "COMMANDS"); next }
	    !in_cmds { next }
	    /^\.It Xo/ { xo = 1; head = ""; next }
	    xo && /^\.Xc/ { xo = 0; check(head); next }
	    xo { head = head " " $0; next }
	    /^\.It Cm / { check($0) }
	    function check(h,   w) {
		    split(h, w, " ")
		    if ((w[1] == ".It" && w[3] == cmd) ||
			(w[1] == ".Cm" && w[2] == cmd))
			    print h
	    }' "$1" | grep -o 'Fl -\{0,1\}[A-Za-z][a-z-]*' |
	    sed 's/^Fl /-/' | sort -u
}

# The commands named on a page's COMMANDS list.
page_commands()
{
	awk '
	    /^\.Sh / { in_cmds = ($2 == "COMMANDS"); next }
	    !in_cmds { next }
	    /^\.It Xo/ { xo = 1; next }
	    xo && /^\.Cm / { print $2; xo = 0; next }
	    /^\.It Cm / { print $3 }' "$1" | sort -u
}

# probe_directives WORDS_FILE...: the words rpcd's file reader takes as
# directives, asked of rpcd itself: each word goes alone on the line of a
# file for rpcd -n -f.  A word it does not take is refused with exit 1 as
# "FILE:1: unknown directive WORD"; any other refusal (a value missing, a
# flag that needs another) or the settings printed means it took the word.
# An exit above 1 is noted in $work/probe.bad.
probe_directives()
{
	for word in $(sort -u "$@"); do
		echo "$word" >"$work/probe.conf"
		"$prog" -n -f "$work/probe.conf" >/dev/null 2>"$work/probe.err"
		status=$?
		if [ $status -gt 1 ]; then
			echo "$word: exit $status: $(cat "$work/probe.err")" \
			    >>"$work/probe.bad"
		elif [ $status -eq 0 ] || ! grep -q \
		    ":1: unknown directive $word\$" "$work/probe.err"; then
			echo "$word"
		fi
	done
}

# compare WANT_FILE GOT_FILE WHAT_MISSING WHAT_EXTRA
compare()
{
	is "$(comm -23 "$1" "$2" | tr '\n' ' ')" "" "$3"
	is "$(comm -13 "$1" "$2" | tr '\n' ' ')" "" "$4"
}

for pair in server/rpcd:rpcd.8 client/rpcctl:rpcctl.1; do
	prog=$top_builddir/${pair%%:*}
	name=$(basename "$prog")
	page=$top_srcdir/man/${pair#*:}
	if [ ! -x "$prog" ]; then
		skip "$name is not built"
		continue
	fi
	ok_test "${pair#*:} exists" test -f "$page" || continue
	"$prog" --help >"$work/help.txt" 2>&1
	ok $? "$name --help exits 0"
	help_options <"$work/help.txt" >"$work/help"
	page_options "$page" >"$work/page"
	ok_test "$name --help prints options" test -s "$work/help"
	compare "$work/help" "$work/page" \
	    "every option of $name --help is in ${pair#*:}" \
	    "every option in ${pair#*:} is in $name --help"
done

# rpcd's configuration directives: those rpcd -n prints (every setting,
# made from the options table) are the ones rpcd.conf.5 lists, and each is
# a long option of rpcd --help.
prog=$top_builddir/server/rpcd
page=$top_srcdir/man/rpcd.conf.5
if [ -x "$prog" ]; then
	"$prog" -n -f /dev/null 2>/dev/null | sed 's/^#//; s/ .*//' |
	    sort -u >"$work/directives"
	awk '/^\.It Ic / { print $3 }' "$page" | sort -u >"$work/page_directives"
	ok_test "rpcd -n prints directives" test -s "$work/directives"
	compare "$work/directives" "$work/page_directives" \
	    "every directive of rpcd -n is in rpcd.conf.5" \
	    "every directive in rpcd.conf.5 is a setting of rpcd -n"
	"$prog" --help | help_options | sed -n 's/^--//p' >"$work/long"
	is "$(comm -23 "$work/directives" "$work/long" | tr '\n' ' ')" "" \
	    "every directive is a long option of rpcd --help"

	# The reader, not the table's printout: every long option and every
	# entry of the page, tried as a directive.
	: >"$work/probe.bad"
	is "$(echo no-such-directive >"$work/bogus"; probe_directives \
	    "$work/bogus")" "" "rpcd -n -f refuses an unknown directive"
	probe_directives "$work/long" "$work/page_directives" \
	    >"$work/accepted"
	ok_test "rpcd's reader takes some directives" test -s "$work/accepted"
	compare "$work/accepted" "$work/page_directives" \
	    "every directive rpcd's reader takes is in rpcd.conf.5" \
	    "every directive in rpcd.conf.5 is taken by rpcd's reader"
	is "$(cat "$work/probe.bad")" "" "rpcd -n -f exits 0 or 1 on each"
else
	skip "rpcd is not built: directives not checked"
fi

# rpcctl's commands and their own options.
prog=$top_builddir/client/rpcctl
page=$top_srcdir/man/rpcctl.1
if [ -x "$prog" ]; then
	"$prog" --help 2>&1 | sed -n '/^commands:/,/^$/p' |
	    awk 'NR > 1 && /^  [a-z]/ { print $1 }' | sort -u >"$work/cmds"
	page_commands "$page" >"$work/page_cmds"
	ok_test "rpcctl --help lists commands" test -s "$work/cmds"
	compare "$work/cmds" "$work/page_cmds" \
	    "every command of rpcctl --help is in rpcctl.1" \
	    "every command in rpcctl.1 is in rpcctl --help"
	for cmd in $(cat "$work/cmds"); do
		"$prog" help "$cmd" 2>&1 | sed -n '/^usage:/,/^$/p' |
		    usage_options >"$work/cmd_help"
		page_command_options "$page" "$cmd" >"$work/cmd_page"
		compare "$work/cmd_help" "$work/cmd_page" \
		    "every option of rpcctl help $cmd is in rpcctl.1" \
		    "every option of $cmd in rpcctl.1 is in rpcctl help $cmd"
	done
else
	skip "rpcctl is not built: commands not checked"
fi
done_testing
