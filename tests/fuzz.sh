#!/bin/sh
# Run libFuzzer harnesses for some seconds each, on their seed corpora:
#	fuzz.sh seconds keep harness...
# With keep set to 1, each harness's corpus is fuzz-corpus/NAME, kept for
# the next run and for "make fuzz-coverage"; else a scratch copy.
# The server logs to stderr: -close_fd_mask=2 keeps libFuzzer's output
# readable (a crash is still reported).

seconds=$1
keep=$2
shift 2
for f in "$@"; do
	name=${f##*/fuzz_}
	if [ "$keep" = 1 ]; then
		work=fuzz-corpus/$name
		mkdir -p "$work"
	else
		work=$(mktemp -d)
	fi
	cp "$top_srcdir/tests/corpus/$name"/* "$work"/
	case $name in
	conn|reply) max=65536 ;;
	*) max=4096 ;;
	esac
	echo "fuzz: $f for ${seconds}s"
	if ! "./$f" -max_total_time="$seconds" -max_len=$max \
	    -close_fd_mask=2 -print_final_stats=1 "$work" 2>"$work.log"; then
		tail -n 60 "$work.log"
		exit 1
	fi
	grep -E 'DONE +cov' "$work.log"
	grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' \
	    "$work.log"
	[ "$keep" = 1 ] || rm -rf "$work" "$work.log"
done
