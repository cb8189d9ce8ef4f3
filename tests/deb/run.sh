#!/bin/sh
# tests/deb/run.sh - the Debian packages (debian/): built with
# `dpkg-buildpackage -us -uc -b` in a temporary copy of the tree (the
# files git tracks or would track; the checkout stays clean), their
# contents, lintian; then, as root with SK_DEB_INSTALL=1 or in CI (CI set),
# installed with dpkg -i (apt-get install -f for dependencies), the
# programs, pkg-config, the Prosody module and the unit checked, and
# everything purged again: the packages, the dependencies apt-get added,
# and the _synckey user when this run made it.  TAP.
# Exit 77 (skipped) when not root, or without dpkg-buildpackage or git.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP not root"
	exit 77
fi
for tool in dpkg-buildpackage git; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP no $tool"
		exit 77
	fi
done
if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1 || [ ! -f "$top/debian/control" ]; then
	echo "1..0 # SKIP not a git checkout with debian/"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/skdeb.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
n=0; bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds; its output on failure
check() {
	d=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else notok "$d"; sed 's/^/# /' "$T/out" | tail -n 20; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$top/debian/changelog")
upstream=${version%-*}
pkgs="synckeyd synckey libsynckey0 libsynckey-dev prosody-mod-synckey"

# ---- build in a copy: tracked files plus untracked ones git does not ignore
src=$T/synckey-$upstream
mkdir "$src"
git -C "$top" ls-files -z --cached --others --exclude-standard |
	(cd "$top" && tar --null --no-recursion --ignore-failed-read -T - -cf -) |
	tar -C "$src" -xf -
# the machine is shared: two jobs at most
DEB_BUILD_OPTIONS="parallel=2${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}"
export DEB_BUILD_OPTIONS
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b ($DEB_BUILD_OPTIONS)"
else
	notok "dpkg-buildpackage -us -uc -b ($DEB_BUILD_OPTIONS)"
	tail -n 40 "$T/build.log" | sed 's/^/# /'
	echo "1..$n"
	exit 1
fi
check "the build ran the unit, daemon and client tests, none failed" \
	sh -c 'grep -q "^# PASS: *[1-9]" "$1" && grep -q "^# FAIL: *0" "$1" && grep -q "^# ERROR: *0" "$1" &&
		! grep -q "^PASS: tests/interop/" "$1"' sh "$T/build.log"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
debs=
for p in $pkgs; do
	a=$arch; [ "$p" = prosody-mod-synckey ] && a=all
	debs="$debs $T/${p}_${version}_$a.deb"
done
check "the five packages are built" ls $debs

# ---- contents (dpkg-deb -c: paths as ./path)
has() { # PACKAGE PATH...: the package holds every PATH
	pk=$1; shift
	dpkg-deb -c "$T/${pk}_${version}_"*.deb | awk '{print $6}' | sed 's|^\.||' >"$T/list"
	for f in "$@"; do grep -qx "$f" "$T/list" || { echo "$pk lacks $f"; return 1; }; done
}
check "synckeyd: daemon, synckeyctl, unit, configuration, sysusers, man pages" \
	has synckeyd /usr/sbin/synckeyd /usr/sbin/synckeyctl /lib/systemd/system/synckeyd.service \
	/etc/synckey/synckeyd.conf /usr/lib/sysusers.d/synckeyd.conf /usr/share/doc/synckeyd/README.Debian \
	/usr/share/man/man8/synckeyd.8.gz /usr/share/man/man8/synckeyctl.8.gz /usr/share/man/man5/synckeyd.conf.5.gz
check "synckey: the CLI and synckey(1)" has synckey /usr/bin/synckey /usr/share/man/man1/synckey.1.gz
mdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
check "libsynckey0: libsynckey.so.0" has libsynckey0 "$mdir/libsynckey.so.0"
check "libsynckey-dev: header, .so, synckey.pc, synckey(3)" has libsynckey-dev /usr/include/synckey.h \
	"$mdir/libsynckey.so" "$mdir/pkgconfig/synckey.pc" /usr/share/man/man3/synckey.3.gz
check "prosody-mod-synckey: mod_synckey.lua" has prosody-mod-synckey /usr/share/synckey/prosody/mod_synckey.lua
check "/etc/synckey/synckeyd.conf is a conffile" \
	sh -c 'dpkg-deb -e "$1" "$2/ctl" && grep -qx /etc/synckey/synckeyd.conf "$2/ctl/conffiles"' \
	sh "$T/synckeyd_${version}_$arch.deb" "$T"
check "libsynckey0 has a symbols file" \
	sh -c 'dpkg-deb -e "$1" "$2/ctl0" && grep -q "^ synckey_strerror@Base" "$2/ctl0/symbols"' \
	sh "$T/libsynckey0_${version}_$arch.deb" "$T"
check "prosody-mod-synckey depends on prosody" \
	sh -c 'dpkg-deb -f "$1" Depends | grep -qw prosody' sh "$T/prosody-mod-synckey_${version}_all.deb"

# ---- lintian on the .changes (every package built).  Suppressed, and
# said here: bogus-mail-host*, the Maintainer is the project's address
# from configure.ac (synckey@localhost) until it has a public one
# (debian/README.Debian).
if command -v lintian >/dev/null 2>&1; then
	suppress=bogus-mail-host,bogus-mail-host-in-debian-changelog
	echo "# lintian: suppressed $suppress (Maintainer synckey@localhost)"
	lintian --suppress-tags "$suppress" "$T/synckey_${version}_$arch.changes" >"$T/lintian.log" 2>&1
	grep -v '^running with root' "$T/lintian.log" | sed 's/^/# /'
	if grep -q '^E: ' "$T/lintian.log"; then
		notok "lintian reports no errors"
	else
		ok "lintian reports no errors ($(grep -c '^W: ' "$T/lintian.log") warnings)"
	fi
else
	skip "lintian reports no errors" "no lintian"
fi

# ---- install, check, purge: only when asked (it changes the machine until the purge)
if [ "${SK_DEB_INSTALL:-0}" != 1 ] && [ -z "${CI:-}" ]; then
	skip "install, check and purge the packages" "set SK_DEB_INSTALL=1 (or CI) to install"
	echo "1..$n"
	[ "$bad" -eq 0 ]; exit
fi
installed=
for p in $pkgs; do
	s=$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null)
	case "$s" in *" installed") installed="$installed $p" ;; esac
done
if [ -n "$installed" ]; then
	skip "install, check and purge the packages" "already installed here:$installed"
	echo "1..$n"
	[ "$bad" -eq 0 ]; exit
fi
getent passwd _synckey >/dev/null && had_user=1 || had_user=0
dpkg-query -W -f '${Package}:${Architecture}\n' | sort >"$T/before"
export DEBIAN_FRONTEND=noninteractive
if dpkg -i $debs >"$T/install.log" 2>&1 ||
	apt-get install -f -y -q --no-install-recommends >>"$T/install.log" 2>&1; then
	ok "dpkg -i (apt-get install -f for dependencies)"
else
	notok "dpkg -i (apt-get install -f for dependencies)"
	tail -n 30 "$T/install.log" | sed 's/^/# /'
fi
dpkg-query -W -f '${Package}:${Architecture}\n' | sort >"$T/after"
# what apt-get added besides ours: purged again at the end
added=$(comm -13 "$T/before" "$T/after" | sed 's/:.*//' | grep -vxF "$(echo $pkgs | tr ' ' '\n')" | tr '\n' ' ')
[ -n "$added" ] && echo "# apt-get added: $added"

check "synckeyd --version" sh -c 'synckeyd --version | grep -q "synckeyd $1"' sh "$upstream"
check "synckeyctl --help exits 0" synckeyctl --help
check "synckey --version" sh -c 'synckey --version | grep -q "synckey $1"' sh "$upstream"
check "pkg-config --modversion synckey is $upstream" \
	sh -c '[ "$(pkg-config --modversion synckey)" = "$1" ]' sh "$upstream"
check "a program builds with pkg-config synckey and runs against libsynckey0" \
	sh -c 'cc -o "$2/prog" "$1/tests/libsynckey_prog.c" $(pkg-config --cflags --libs synckey) && "$2/prog" "$2/cache"' \
	sh "$top" "$T"
# the folder the README names for the packaged adapter
lua=$(sed -n 's|.*prosody-mod-synckey puts it in \(/[^ ;)]*\).*|\1|p' "$top/README" | head -n 1)
check "mod_synckey.lua is where the README says (${lua:-no folder in README})" \
	test -n "$lua" -a -f "$lua/mod_synckey.lua"
check "the system user _synckey exists (systemd-sysusers)" getent passwd _synckey
unit=/lib/systemd/system/synckeyd.service
check "the unit runs /usr/sbin/synckeyd as _synckey, only with /etc/synckey/secret" \
	sh -c 'grep -q "^ExecStart=/usr/sbin/synckeyd " "$1" && grep -qx "User=_synckey" "$1" &&
		grep -qx "ConditionPathExists=/etc/synckey/secret" "$1" && grep -qx "StateDirectory=synckey" "$1"' sh "$unit"
check "the package ships no /etc/synckey/secret (so the service stays down)" test ! -e /etc/synckey/secret
check "/etc/synckey/synckeyd.conf passes synckeyd -n (with a secret)" \
	sh -c '(umask 077 && echo secret >"$1/secret") &&
		synckeyd -n --config /etc/synckey/synckeyd.conf --secret-file "$1/secret" --db "$1" | grep -q "configuration OK"' sh "$T"
if command -v systemd-analyze >/dev/null 2>&1; then
	# Documentation= names man pages: checked too where man finds them
	# (not where dpkg drops /usr/share/man, as slim images do)
	man -w 8 synckeyd >/dev/null 2>&1 && mano= || mano=--man=no
	check "systemd-analyze verify ${mano:+$mano }$unit, silent" \
		sh -c 'systemd-analyze verify $2 "$1" && [ -z "$(systemd-analyze verify $2 "$1" 2>&1)" ]' sh "$unit" "$mano"
else
	skip "systemd-analyze verify $unit" "no systemd-analyze"
fi

# the unit's own Condition* lines, evaluated by systemd: false, so systemd
# skips the service (at install and at boot) while there is no secret
if command -v systemd-analyze >/dev/null 2>&1 && systemd-analyze condition --help >/dev/null 2>&1; then
	check "systemd skips the unit without /etc/synckey/secret (its conditions are false)" \
		sh -c 'c=$(grep "^Condition" "$1") && [ -n "$c" ] && ! systemd-analyze condition $c' sh "$unit"
else
	skip "systemd skips the unit without /etc/synckey/secret" "no systemd-analyze condition"
fi

# ---- leave the machine as it was
dpkg --purge $pkgs >"$T/purge.log" 2>&1
[ -n "$added" ] && apt-get purge -y -q $added >>"$T/purge.log" 2>&1
[ "$had_user" = 0 ] && getent passwd _synckey >/dev/null && userdel _synckey >>"$T/purge.log" 2>&1
[ "$had_user" = 0 ] && getent group _synckey >/dev/null && groupdel _synckey >>"$T/purge.log" 2>&1
dpkg-query -W -f '${Package}:${Architecture}\n' | sort >"$T/end"
check "purged: the packages, what apt-get added, /etc/synckey, /var/lib/synckey" \
	sh -c 'cmp "$1/before" "$1/end" && [ ! -e /etc/synckey ] && [ ! -e /var/lib/synckey ] && [ ! -e "$2" ]' sh "$T" "$unit"
echo "1..$n"
[ "$bad" -eq 0 ]
