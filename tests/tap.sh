# TAP helpers for the shell tests: source this file, call ok/ok_test/is,
# finish with done_testing.  Failures print a reason as a TAP diagnostic.

tap_count=0
tap_failed=0
# Functions done_testing calls first, for checks that can only be made at
# the end: tests/lib.sh adds one for its test client.
tap_at_end=

# ok STATUS DESCRIPTION: pass when STATUS is 0.
ok()
{
	tap_count=$((tap_count + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_count - $2"
		return 0
	fi
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_count - $2"
	return 1
}

# ok_test DESCRIPTION COMMAND...: pass when the command succeeds.
ok_test()
{
	tap_desc=$1
	shift
	"$@"
	ok $? "$tap_desc"
}

# is GOT WANT DESCRIPTION: pass when the strings are equal.
is()
{
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$1'"
		diag "want: '$2'"
		return 1
	fi
}

diag()
{
	echo "# $*"
}

# Print standard input as diagnostics.
diag_file()
{
	sed 's/^/# /'
}

skip()
{
	tap_count=$((tap_count + 1))
	echo "ok $tap_count # SKIP $*"
}

skip_all()
{
	echo "1..0 # SKIP $*"
	exit 0
}

bail_out()
{
	echo "Bail out! $*"
	exit 1
}

# need_python3: set PYTHON3 (from the environment, else the PATH), or skip
# the whole test without it; CI installs python3, so there it is a failure.
need_python3()
{
	[ -n "${PYTHON3:-}" ] && [ -x "$PYTHON3" ] ||
	    PYTHON3=$(command -v python3)
	[ -n "$PYTHON3" ] && return 0
	[ "${CI:-}" = true ] && bail_out "python3 not found, and CI=true"
	skip_all "python3 not found"
}

# A script that ends having run no check is broken, not skipped: only
# skip_all says a test cannot run here.
done_testing()
{
	for tap_fn in $tap_at_end; do
		"$tap_fn"
	done
	[ "$tap_count" -gt 0 ] || ok 1 "the script ran no check"
	echo "1..$tap_count"
	[ "$tap_failed" -eq 0 ]
}
