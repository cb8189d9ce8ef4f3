#!/bin/sh
# run.sh - synckey on the servers Debian 13 ships, in a fresh Debian 13 root (as root; TAP)
#
#   sh tests/compat/run.sh
#
# 1. debootstrap --variant=minbase trixie into a temporary folder
#    (${TMPDIR:-/var/tmp}/skcompat.XXXXXX), /proc, /sys, /dev/pts and
#    /dev/shm mounted in it; no service starts there (policy-rc.d);
# 2. the tree (the files git tracks, as they are in the working tree,
#    so uncommitted changes too; no build folders) copied to /root/synckey;
# 3. in the root, what the README tells a new user: sh tests/install-deps.sh
#    (its one apt-get install), then autoreconf -fi, configure
#    --enable-werror, make, and the unit tests;
# 4. the interop suites on the root's Prosody and ejabberd, each on ports
#    of its own (LAB_PORTS), the server adapter on and off: synckeyd,
#    adapter, client, TLS (Prosody), the adapter contract (tests/adapter), and the README's
#    demo, sh tests/demo.sh and LAB_SERVER=ejabberd sh tests/demo.sh.
#
# Prints TAP: every case of every suite, prefixed with the release, the
# server and the adapter mode ("debian13 ejabberd privonly synckeyd: ..."),
# one line for a suite that stopped without saying which case failed, and
# one for each demo; then the versions that ran and the wall time of each
# phase.  Exit 0 only when nothing failed; 77 (and "1..0 # SKIP") when not
# root or debootstrap cannot make the root.
#
# Environment:
#   SK_COMPAT_SUITE   trixie (default); bookworm-backports: bookworm with
#                     Prosody 13, ejabberd 24.12 and libstrophe 0.14 from
#                     bookworm-backports (Erlang 25, Lua 5.4.4 stay bookworm's)
#   SK_COMPAT_MIRROR  http://deb.debian.org/debian
#   SK_COMPAT_PORTS   first port of the 2 000 the labs use (43000: 43000-44599);
#                     suite i gets C2S = base+100*i+22, COMP = C2S+25, and
#                     ejabberd's distribution C2S+2 (no epmd)
#   SK_COMPAT_CACHE   a folder debootstrap keeps its .debs in between runs
#   SK_COMPAT_ONLY    a space-separated list of suite names to run (default all)
#   SK_COMPAT_KEEP=1  keep the root (unmounted) and print where it is
#   SK_COMPAT_LOGS    a folder that gets every phase's and suite's log
# The labs wait 30 s for Prosody's ports (LAB_PORT_WAIT; 10 s by default):
# on a 2-core machine at load 10-15, Prosody 13 once did not listen within 10 s.
# Every step has a timeout; every process left in the root is stopped by
# PID (found by its root directory) before the mounts go; the mounts and
# the folder are removed on every exit.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=${SK_COMPAT_SUITE:-trixie}
MIRROR=${SK_COMPAT_MIRROR:-http://deb.debian.org/debian}
BASE=${SK_COMPAT_PORTS:-43000}
case $SUITE in
trixie) REL=debian13 DIST=trixie ;;
bookworm-backports) REL=debian12bpo DIST=bookworm ;;
*) echo "Bail out! SK_COMPAT_SUITE is trixie or bookworm-backports, not $SUITE"; exit 99 ;;
esac

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP a debootstrap root needs root"
	exit 77
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 ||
		{ echo "1..0 # SKIP no debootstrap (apt-get install debootstrap)"; exit 77; }
fi

now() { date +%s; }
T0=$(now)
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/skcompat.XXXXXX") || exit 99
R=$WORK/root
TIMES=

# every process whose root is $R, by PID: TERM, 5 s, then KILL
kill_root() {
	for _sig in TERM KILL; do
		_pids=
		for _p in /proc/[0-9]*; do
			[ "$(readlink "$_p/root" 2>/dev/null)" = "$R" ] && _pids="$_pids ${_p#/proc/}"
		done
		[ -n "$_pids" ] || return 0
		# shellcheck disable=SC2086
		kill -$_sig $_pids 2>/dev/null
		_i=0
		while [ $_i -lt 50 ]; do
			_left=
			for _p in $_pids; do [ -d "/proc/$_p" ] && _left=1; done
			[ -n "$_left" ] || return 0
			sleep 0.1
			_i=$((_i + 1))
		done
	done
}
# the mounts under $R, deepest first
mounts_in_root() {
	awk -v r="$R" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r
}
cleanup() {
	trap - EXIT INT TERM HUP
	# the job that was running (debootstrap runs outside the root): TERM,
	# which timeout passes on to its command, then at most 10 s
	if [ -n "${bgpid:-}" ] && kill -TERM "$bgpid" 2>/dev/null; then
		_i=0
		while kill -0 "$bgpid" 2>/dev/null && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	fi
	kill_root
	if [ -n "${SK_COMPAT_LOGS:-}" ] && mkdir -p "$SK_COMPAT_LOGS"; then
		cp "$WORK"/*.log "$SK_COMPAT_LOGS/" 2>/dev/null
		cp "$R"/root/synckey/build/tests/*.log "$SK_COMPAT_LOGS/" 2>/dev/null
	fi
	for _m in $(mounts_in_root); do
		umount "$_m" 2>/dev/null || umount -l "$_m"
	done
	if [ -n "$(mounts_in_root)" ]; then
		echo "# compat: still mounted under $R, left in place:"
		mounts_in_root | sed 's/^/#   /'
	elif [ "${SK_COMPAT_KEEP:-0}" = 1 ]; then
		echo "# compat: root kept in $R"
	else
		rm -rf --one-file-system "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# phase NAME START: remember how long it took
phase() { TIMES="$TIMES$1 $(($(now) - $2)) s
"; }

n=0
bad=0
tap() {	# STATUS TEXT: one renumbered TAP line
	n=$((n + 1))
	[ "$1" = ok ] || bad=$((bad + 1))
	echo "$1 $n - $2"
}

# bg COMMAND...: COMMAND as a job, waited for, so that a signal to this
# shell (check-all's timeout) runs the trap at once, not when it ends
bg() {
	"$@" &
	bgpid=$!
	wait $bgpid
	_bgrc=$?
	bgpid=	# ended: its PID is no longer ours to signal
	return $_bgrc
}
in_root() {	# COMMAND...: in the root, as a new user's root shell would
	chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb TMPDIR=/tmp "$@"
}

# ---- 1. the root
t=$(now)
echo "# compat: debootstrap --variant=minbase $DIST into $R ($MIRROR)"
cache=
if [ -n "${SK_COMPAT_CACHE:-}" ]; then
	mkdir -p "$SK_COMPAT_CACHE" && cache="--cache-dir=$(cd "$SK_COMPAT_CACHE" && pwd)"
fi
# shellcheck disable=SC2086
if ! bg timeout -k 10 1200 debootstrap --variant=minbase $cache "$DIST" "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
	tail -n 20 "$WORK/debootstrap.log" | sed 's/^/# /'
	echo "1..0 # SKIP debootstrap $DIST failed (no network to $MIRROR?)"
	exit 77
fi
printf '#!/bin/sh\n# no service starts in this root\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$R/etc/resolv.conf"
# ejabberd's nodes are name@localhost
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
if [ "$SUITE" = bookworm-backports ]; then
	echo "deb $MIRROR bookworm-backports main" >"$R/etc/apt/sources.list.d/backports.list"
	# what backports has wins: Prosody 13, ejabberd 24.12, libstrophe 0.14
	printf 'Package: *\nPin: release a=bookworm-backports\nPin-Priority: 500\n' >"$R/etc/apt/preferences.d/backports"
fi
mount -t proc proc "$R/proc" &&
	mount -t sysfs -o ro sysfs "$R/sys" &&
	mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts" &&
	mount -t tmpfs -o mode=1777,size=256m tmpfs "$R/dev/shm" || { echo "Bail out! cannot mount in $R"; exit 99; }
[ -e "$R/dev/ptmx" ] || ln -s pts/ptmx "$R/dev/ptmx"
phase debootstrap "$t"

# ---- 2. the tree: what a checkout holds (no build folders, no .git)
t=$(now)
mkdir -p "$R/root/synckey"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\n" "$f"; done' sh |
		tar -cf - -T -) | tar -C "$R/root/synckey" -xf -
else
	tar -C "$top" --exclude=./.git --exclude='./build-*' --exclude=./autom4te.cache -cf - . |
		tar -C "$R/root/synckey" -xf -
fi || { echo "Bail out! cannot copy the tree into $R"; exit 99; }
phase copy "$t"

# ---- 3. install, build, unit tests
t=$(now)
echo "# compat: sh tests/install-deps.sh in the root"
if ! bg in_root timeout -k 10 1800 sh -c 'cd /root/synckey && sh tests/install-deps.sh' >"$WORK/deps.log" 2>&1; then
	tail -n 30 "$WORK/deps.log" | sed 's/^/# /'
	tap "not ok" "$REL install: sh tests/install-deps.sh"
	echo "1..$n"
	exit 1
fi
tap ok "$REL install: sh tests/install-deps.sh"
phase install-deps "$t"

t=$(now)
echo "# compat: autoreconf, configure --enable-werror, make, unit tests"
bg in_root timeout -k 10 1800 sh -c 'cd /root/synckey && { autoreconf -fi >/dev/null 2>&1 || autoreconf -fi; } &&
	rm -rf build && mkdir build && cd build && ../configure -q --enable-werror && make -j2 >/dev/null' \
	>"$WORK/build.log" 2>&1
rc=$?
if [ "$rc" != 0 ]; then
	tail -n 40 "$WORK/build.log" | sed 's/^/# /'
	tap "not ok" "$REL build: autoreconf, configure --enable-werror, make (exit $rc)"
	echo "1..$n"
	exit 1
fi
warnings=$(grep -c 'warning:' "$WORK/build.log")
tap ok "$REL build: autoreconf, configure --enable-werror, make ($warnings warnings)"
phase build "$t"

t=$(now)
bad0=$bad
bg in_root timeout -k 10 1200 sh -c 'cd /root/synckey/build && make -j2 check \
	TESTS="\$(UNIT_TESTS) \$(DAEMON_TESTS) \$(CLIENT_TESTS) tests/xep/check-examples.sh tests/configure.sh tests/examples.sh"' \
	>"$WORK/unit.log" 2>&1
urc=$?
for trs in $(cd "$R/root/synckey/build" && find tests -name '*.trs' | sort); do
	res=$(sed -n 's/^:test-result: //p' "$R/root/synckey/build/$trs" | head -n 1)
	name=${trs%.trs}
	case $res in
	PASS) tap ok "$REL unit: $name" ;;
	SKIP) tap ok "$REL unit: $name # SKIP $(grep -m 1 -i 'skip' "$R/root/synckey/build/$name.log")" ;;
	*)
		tap "not ok" "$REL unit: $name ($res)"
		tail -n 20 "$R/root/synckey/build/$name.log" | sed 's/^/# /' ;;
	esac
done
if [ "$urc" != 0 ] && [ "$bad" = "$bad0" ]; then
	tap "not ok" "$REL unit: make check (exit $urc)"
	tail -n 30 "$WORK/unit.log" | sed 's/^/# /'
fi
phase unit-tests "$t"

# ---- 4. the interop suites and the demo
# suite NAME SERVER ADAPTER SCRIPT: one suite on ports of its own, its TAP
# lines passed through with "$REL SERVER MODE NAME: " before each name
i=0
suite() {
	_name=$1 _srv=$2 _ad=$3 _script=$4
	i=$((i + 1))
	case " ${SK_COMPAT_ONLY:-$_name} " in *" $_name "*) ;; *) return 0 ;; esac
	_c2s=$((BASE + 100 * i + 22))
	_comp=$((_c2s + 25))
	_mode=adapter
	[ "$_ad" = 1 ] || _mode=privonly
	_pre="$REL $_srv $_mode $_name"
	_t=$(now)
	bg in_root timeout -k 10 900 sh -c "cd /root/synckey/build && top_srcdir=.. top_builddir=. \
		LAB_SERVER=$_srv LAB_ADAPTER=$_ad LAB_PORTS='$_c2s $_comp' LAB_PORT_WAIT=30 sh ../$_script" \
		>"$WORK/$_name-$_srv-$_mode.log" 2>&1
	_rc=$?
	_bad0=$bad _n0=$n
	# the suite's own TAP lines, renumbered, with the suite before each name
	while IFS= read -r _l; do
		case $_l in
		"ok "*) tap ok "$_pre: $(printf '%s' "$_l" | sed 's/^ok [0-9]* *-* *//')" ;;
		"not ok "*) tap "not ok" "$_pre: $(printf '%s' "$_l" | sed 's/^not ok [0-9]* *-* *//')" ;;
		esac
	done <"$WORK/$_name-$_srv-$_mode.log"
	if [ "$_rc" = 77 ]; then
		tap ok "$_pre # SKIP $(grep -m 1 'SKIP' "$WORK/$_name-$_srv-$_mode.log")"
	elif [ "$_rc" != 0 ] && [ "$bad" = "$_bad0" ]; then
		# stopped (or timed out, 124) without a failed case: the suite fails
		tap "not ok" "$_pre: the suite stopped, exit $_rc$(grep -m 1 -E '^(Bail out!|lab: )' "$WORK/$_name-$_srv-$_mode.log" | sed 's/^/: /')"
	elif [ "$n" = "$_n0" ]; then
		tap ok "$_pre: exit 0"
	fi
	if [ "$bad" != "$_bad0" ]; then
		tail -n 40 "$WORK/$_name-$_srv-$_mode.log" | sed 's/^/#   /'
	fi
	TIMES="$TIMES  $_srv $_mode $_name $(($(now) - _t)) s (ports $_c2s/$_comp)
"
}
for srv in prosody ejabberd; do
	t=$(now)
	echo "# compat: interop suites, $srv"
	for ad in 1 0; do
		suite synckeyd $srv $ad tests/interop/run-synckeyd.sh
		suite adapter $srv $ad tests/interop/run-adapter.sh
	done
	suite client $srv 1 tests/interop/run-client.sh
	[ $srv = prosody ] && suite tls prosody 1 tests/interop/run-client-tls.sh
	suite contract $srv 1 tests/adapter/run.sh
	# the README's demo, literally (it runs install-deps.sh again and
	# builds in build-demo); both modes, adapter then privilege-only
	suite demo $srv 1 tests/demo.sh
	phase "interop-$srv" "$t"
done

# ---- versions and times
echo "1..$n"
echo "# compat: $(. "$R/etc/os-release" && echo "$PRETTY_NAME"), debian_version $(cat "$R/etc/debian_version")"
in_root dpkg-query -W -f '${Package} ${Version}\n' prosody prosody-modules ejabberd erlang-p1-xmpp \
	libstrophe-dev erlang-base lua5.4 liblmdb-dev libssl-dev clang gcc python3 2>/dev/null | sed 's/^/#   /'
echo "#   erlang OTP $(in_root erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().' 2>/dev/null)," \
	"lua $(in_root lua5.4 -v 2>/dev/null | awk '{print $2}')"
echo "# compat: wall time by phase"
printf '%s' "$TIMES" | sed 's/^/#   /'
echo "#   total $(($(now) - T0)) s"
echo "# compat: $((n - bad)) ok, $bad not ok"
[ "$bad" -eq 0 ]
