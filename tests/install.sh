#!/bin/sh
# What "make install" does outside the files of the build: configure's
# summary names the directories the units and the completion go to, as
# paths; the units go under the prefix unless configure was given a
# directory, and start the rpcd installed with them; a real install as
# root refreshes ld.so's cache, a staged one (DESTDIR) leaves the host alone.
# The real install, then rpcd and rpcctl run from it, is .ci/run's.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

log=$top_builddir/config.log
[ -f "$log" ] || skip_all "no config.log in $top_builddir"
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")

notice=$(sed -n 's/^configure:[0-9]*: systemd units: //p' "$log" | tail -n 1)
ok_test "configure's summary names the unit directory: $notice" \
    test -n "$notice"
unitdir=${notice%%; bash completion: *}
compdir=${notice##*; bash completion: }
for d in "$unitdir" "$compdir"; do
	case $d in
	*'$'*|*'`'*) res=1 ;;
	no|/*) res=0 ;;
	*) res=1 ;;
	esac
	ok $res "a path, expanded: $d"
done

# Units: under the prefix, unless --with-systemdsystemunitdir=DIR.
case $("$top_builddir/config.status" --config) in
*--with-systemdsystemunitdir=*)
	skip "configure was given --with-systemdsystemunitdir" ;;
*)
	case $unitdir in
	no|"$prefix"/lib/systemd/system) ok 0 "units under the prefix: $unitdir" ;;
	*) ok 1 "units under the prefix $prefix: $unitdir" ;;
	esac ;;
esac

# A stand-in for ldconfig that says when it is run: the host's cache is
# not the tests' to change.
cat >"$TEST_DIR/ldconfig" <<EOF
#!/bin/sh
echo "\$*" >>"$TEST_DIR/ldconfig.ran"
EOF
chmod +x "$TEST_DIR/ldconfig"
stage=$TEST_DIR/stage
# Not the modules: libtool relinks a module in the build tree to install
# it, rewriting modules/.libs/exec.so under the tests that load it at the
# same time (a 1 in 40 "file too short").  .ci/run's install has them.
nomodules=module_LTLIBRARIES=

$MAKE -C "$top_builddir" install DESTDIR="$stage" $nomodules \
    LDCONFIG="$TEST_DIR/ldconfig" >"$TEST_DIR/install.log" 2>&1
ok $? "make install DESTDIR=... succeeds" || diag_file <"$TEST_DIR/install.log"
ok_test "a staged install does not run ldconfig" \
    test ! -e "$TEST_DIR/ldconfig.ran"
if [ "$compdir" = no ]; then
	skip "configured without the bash completion"
else
	ok_test "the completion is installed where configure said" \
	    test -f "$stage$compdir/rpcctl"
fi
if [ "$unitdir" = no ]; then
	skip "configured without the systemd units"
	skip "configured without the systemd units"
else
	ok_test "the units are installed where configure said" \
	    test -f "$stage$unitdir/rpcd.service" -a \
	    -f "$stage$unitdir/rpcd.socket"
	exe=$(sed -n 's/^ExecStart=//p' "$stage$unitdir/rpcd.service")
	ok_test "rpcd.service starts the rpcd installed with it: $exe" \
	    test -f "$stage$exe" -a -x "$stage$exe"
fi

# A real install (no DESTDIR) as root refreshes the cache, and so does an
# uninstall: the library and programs, installed under a scratch prefix.
ran()
{
	[ -e "$TEST_DIR/ldconfig.ran" ] && wc -l <"$TEST_DIR/ldconfig.ran"
}
for what in install-exec uninstall; do
	$MAKE -C "$top_builddir" $what prefix="$TEST_DIR/prefix" DESTDIR= \
	    $nomodules \
	    LDCONFIG="$TEST_DIR/ldconfig" >"$TEST_DIR/$what.log" 2>&1
	ok $? "make $what prefix=... succeeds" || diag_file <"$TEST_DIR/$what.log"
	if [ "$(id -u)" -ne 0 ]; then
		is "$(ran)" "" "not as root: make $what does not run ldconfig"
	elif [ -z "$(sed -n 's/^LDCONFIG = //p' "$top_builddir/Makefile")" ]; then
		skip "configure found no glibc ldconfig"
	else
		is "$(ran)" "$([ $what = install-exec ] && echo 1 || echo 2)" \
		    "as root: make $what runs ldconfig"
	fi
done
ok_test "the scratch prefix held the install" \
    test -d "$TEST_DIR/prefix/lib" -a ! -e "$TEST_DIR/prefix/lib/libproto.so.0"

done_testing
