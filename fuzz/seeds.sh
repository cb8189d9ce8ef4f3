#!/bin/sh
# seeds.sh - (re)writes the seed corpus in fuzz/corpus/<target>/.
# Binary seeds (snapshot blobs, stored records, keys) come from gen_seeds.c,
# built here with clang from src/ without sanitizers; text seeds are below.
# Usage: fuzz/seeds.sh   (needs clang and pkg-config libstrophe lmdb libcrypto;
# SRC=folder uses other sources than src/, as in build.sh)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
src=$(cd "${SRC:-$top/src}" && pwd)
c=$here/corpus
CC=${CC:-clang}
for t in key snap pres cache xml_pres xml_update xml_roster xml_capture xml_item client request conf status changes; do
	rm -rf "$c/$t"
	mkdir -p "$c/$t"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sk_seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# every module of the units gen_seeds.c reaches (new modules are picked
# up); of xmpp/, not nodefer.c, which interposes expat
srcs=$(ls "$src"/core/*.c "$src"/store/*.c "$src"/engine/*.c "$src"/xmpp/xml.c "$src"/xmpp/capture.c \
    "$src"/xmpp/xitem.c)
incs=
for d in "$src"/*/; do incs="$incs -I${d%/}"; done
$CC -g -O0 -w $incs $(pkg-config --cflags libstrophe lmdb libcrypto) \
    "$here/gen_seeds.c" $srcs $(pkg-config --libs libstrophe lmdb libcrypto) -o "$tmp/gen"
"$tmp/gen" "$c"

w() { # w TARGET NAME TEXT...  (printf format: \000 separates stanzas)
	t=$1 n=$2
	shift 2
	printf "$@" > "$c/$t/$n"
}

# ---- presence, items, rosters, sync results
w xml_pres avail "<presence from='bob@p.test/phone' to='sync.p.test' xmlns='jabber:component:accept'><show>away</show><status xml:lang='de'>weg</status><status>away</status><priority>-3</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://x' ver='abc='/><delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:00:00Z'/></presence>"
w xml_pres unavail "<presence from='bob@p.test/phone' type='unavailable'/>"
w xml_pres subscribe "<presence from='bob@p.test' type='subscribe'/>"
w xml_pres nested "<presence from='a@b/c'><x xmlns='urn:x' a='1' b='&amp;&lt;'><y><z>t&gt;</z></y></x><priority>999</priority></presence>"
w xml_item item "<item jid='bob@p.test' name='Bob' subscription='both' ask='subscribe'><group>Friends</group><group/><group>Work</group></item>"
w xml_item remove "<item jid='carol@p.test' subscription='remove'/>"
w xml_roster query "<query xmlns='jabber:iq:roster' ver='v1'><item jid='bob@p.test' subscription='both'><group>A</group></item><item jid='carol@p.test' subscription='to' name='C'/><item jid='bad' subscription='bogus'/><item subscription='none'/></query>"
w xml_roster iq "<iq type='result' from='alice@p.test' id='r1'><query xmlns='jabber:iq:roster'><item jid='dave@p.test' subscription='from' ask='subscribe'/></query></iq>"
w xml_capture query "<query xmlns='jabber:iq:roster' ver='v1'><item jid='bob@p.test' subscription='both'><group>A</group><group/><group>x<b>y</b>z</group></item><item jid='carol@p.test' subscription='to' name='C'/><item jid='bad' subscription='bogus'/><item subscription='none'/></query>"
w xml_capture iq "<iq type='result' id='r1'><query xmlns='jabber:iq:roster'>\n <item jid='a@p.test' b:jid='b@p.test' xmlns:b='urn:b' ask='subscribe'><group><![CDATA[<g>]]></group></item><foo/></query></iq>"
w xml_update full "<sync xmlns='urn:xmpp:synckey:0' type='full' key='k' digest='d'><query xmlns='jabber:iq:roster'><item jid='bob@p.test' subscription='both'/><item jid='eve@p.test' subscription='none' name='Eve'/></query><presence xmlns='jabber:client' from='bob@p.test/phone'><show>dnd</show></presence></sync>"
w xml_update delta "<iq type='result' id='s1'><sync xmlns='urn:xmpp:synckey:0' type='delta' key='k'><query xmlns='jabber:iq:roster'><item jid='carol@p.test' subscription='remove'/></query><presence xmlns='jabber:client' from='bob@p.test/laptop' type='unavailable'/><presence xmlns='jabber:client' from='carol@p.test' type='unavailable'/><presence xmlns='jabber:client' from='bob@p.test/tablet'><status>hi</status></presence></sync></iq>"
w client roster "<iq type='result' id='r1'><query xmlns='jabber:iq:roster' ver='ver7'><item jid='bob@p.test' subscription='both'/><item jid='erin@p.test' subscription='to'/><item jid='gone@p.test' subscription='remove'/></query></iq>"
w client pres "<presence from='bob@p.test/phone'><show>chat</show><status>here</status></presence>"
w client unavail "<presence from='bob@p.test' type='unavailable'/>"

# ---- synckeyd's handlers (see fuzz_request.c for the placeholders R, K, M)
req="<iq type='get' from='alice@p.test/laptop' to='sync.p.test' id='s1'><sync xmlns='urn:xmpp:synckey:0' client='laptop'%s/></iq>"
roster="<iq type='result' id='R' to='sync.p.test'><query xmlns='jabber:iq:roster'><item jid='bob@p.test' subscription='both'/><item jid='carol@p.test' subscription='to'><group>Friends</group></item>%s</query></iq>"
w request sync "$req\\000$roster" "" ""
w request delta "$req\\000$roster" " key='K'" "<item jid='dave@p.test' subscription='from'/>"
w request checkpoint "<iq type='set' from='alice@p.test/laptop' id='c1'><checkpoint xmlns='urn:xmpp:synckey:0' client='laptop' key='K'/></iq>\\000$roster" ""
many=
i=0
while [ $i -lt 80 ]; do
	many="$many<item jid='contact$i@q.test' name='Contact number $i' subscription='both'><group>G$((i % 4))</group></item>"
	i=$((i + 1))
done
w request paged "$req\\000$roster\\000<iq type='get' from='alice@p.test/laptop' id='m1'><sync xmlns='urn:xmpp:synckey:0' client='laptop' more='M'/></iq>" "" "$many"
w request presence "<presence from='bob@p.test/phone' to='sync.p.test'><show>xa</show><status>zzz</status></presence>\\000<presence from='bob@p.test/phone' type='unavailable'/>\\000<presence from='carol@p.test' type='unavailable'/>"
w request misc "<message from='p.test' to='sync.p.test'><privilege xmlns='urn:xmpp:privilege:1'><perm access='roster' type='both'/><perm access='presence' type='none'/></privilege></message>\\000<iq type='get' from='alice@p.test/x' id='d1'><query xmlns='http://jabber.org/protocol/disco#info' node='n'/></iq>\\000<iq type='get' from='mallory@evil.test/x' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>\\000<iq type='set' from='alice@p.test/x' id='b1'><sync xmlns='urn:xmpp:synckey:0' client='bad client!'/></iq>"
# protocol version 1 (xep/ "Digest of version 1"): the same requests in urn:xmpp:synckey:1
req1="<iq type='get' from='alice@p.test/laptop' to='sync.p.test' id='s1'><sync xmlns='urn:xmpp:synckey:1' client='laptop'%s/></iq>"
w request version1 "$req1\\000$roster\\000<iq type='set' from='alice@p.test/laptop' id='c1'><checkpoint xmlns='urn:xmpp:synckey:1' client='laptop' key='K'/></iq>\\000$roster\\000<iq type='get' from='alice@p.test/laptop' id='m1'><sync xmlns='urn:xmpp:synckey:1' client='laptop' more='M'/></iq>" " key='K'" "$many"
w request rostererr "$req\\000<iq type='error' id='R'><error type='cancel'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>" ""

# ---- synckeyd's configuration (a NUL separates flags, one a line, from the file)
w conf full "# synckeyd.conf\nserver = 127.0.0.1:5347\njid = sync.p.test\nsecret-file = /etc/synckeyd/secret\ndomain = p.test\ndomain = q.test\ndb = /var/lib/synckeyd\nlog-level = debug\nsyslog = yes\nstanza-budget = 200000\nroster-timeout = 10\nkey-ttl = 30\nmax-clients = 16\nbatch-events = 512\nbatch-ms = 20\nmax-presence-bytes = 16384\nmax-resources = 64\nmax-pending = 10000\n"
w conf errors "server = nohost\njid =\nbogus = 1\nmax-clients = 0\ndomain = a@b\n  \t# comment\nno equals sign\n"
w conf flags -- "--server\nh:1\n--jid\nj\n-n\n--domain\nx.test\\000secret-file = s\ndb = d\njid = ignored\ndomain = y.test\n"

# ---- synckeyd's status file (DB/synckeyd.status, read by synckeyctl)
w status ok "pid 4242\nwritten 1700000000\npresence-bytes 1024 8388608\npages 0 16777216\nroster-pending 3 0\n"
w status bad "pid 1\nwritten x\nname 1 2 extra\n"
w status full "pid -1\nwritten -5\n\n\na 1 1\nb 2 2\nc 3 3\nd 4 4\ne 5 5\nf 6 6\ng 7 7\nh 8 8\ni 9 9\nj 10 10\nk 11 11\nl 12 12\nm 13 13\nn 14 14\no 15 15\np 16 16\n"

# ---- the adapter's change list (doc/adapter-protocol.md "Change lists")
w changes list "<changes since='v1'><query xmlns='jabber:iq:roster'><item jid='bob@p.test' name='Bob' subscription='both'><group>Friends</group></item><item jid='carl@p.test' subscription='remove'/><item jid='dave@p.test' subscription='to' ask='subscribe'/></query></changes>"
w changes view "<iq type='result' id='roster1' from='p.test/synckey'><view xmlns='urn:xmpp:synckey:adapter:0' ver='v2'><changes since='v1'><query xmlns='jabber:iq:roster'><item jid='erin@p.test' subscription='none'/></query></changes></view></iq>"
w changes refused "<changes since='v1'><query xmlns='jabber:iq:roster'><item jid='bob@p.test' subscription='both'/><item jid='bob@p.test' subscription='to'/><item subscription='none'/></query></changes>"
w changes empty "<changes since='v1'><query xmlns='jabber:iq:roster'/></changes>"

echo "seeds.sh: $(find "$c" -type f | wc -l) files, $(cat "$c"/*/* | wc -c) bytes in $c"
