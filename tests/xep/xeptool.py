#!/usr/bin/env python3
"""xeptool.py - what tests/xep/*.sh need from xep/synckey.xml (stdlib only).

    xeptool.py blocks DIR XML    every <example/> and <code/> of the XEP, and every
                                 ```xml block of a Markdown file, into DIR/b.N; one
                                 line per block in DIR/lines: "LINE KIND CAPTION"
    xeptool.py digests XML       the digests of the XEP's sync results reproduce
                                 (TAP): full answers from their children, deltas
                                 applied to the state before them, paged answers
                                 once their last part is in
    xeptool.py keywords XML      no RFC 2119 key word in lower case in the
                                 prose (examples, code and the legal notice
                                 aside); TAP
    xeptool.py titles XML        the topic of every section, one a line

The XEP is read with xep/render.py's parser (the vendored xep.dtd and
xep.ent from xep/xsf/).  The digest is computed here from the XEP's own
text ("Canonical form for the digest"), not with the project's C code, so
that the examples check the specification, not the implementation.
"""
import base64
import hashlib
import os
import re
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no xep/__pycache__ in the source folder (make dist takes xep/ whole)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'xep'))
import render  # noqa: E402  (xep/render.py)

NS0 = 'urn:xmpp:synckey:0'
NS1 = 'urn:xmpp:synckey:1'
ROSTER = 'jabber:iq:roster'
CLIENT = 'jabber:client'
XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang'
MAX_GROUPS = 256


def load(path):
    return render.parse(path, [os.path.join(os.path.dirname(os.path.abspath(path)), 'xsf')])


def walk(node, level=0):
    yield node, level
    for k in node.elems():
        yield from walk(k, level + 1)


def body(node):
    t = node.text()
    t = t[1:] if t.startswith('\n') else t
    return t[:-1] if t.endswith('\n') else t


def xml_blocks(path):
    """(line, kind, caption, text) of every example and code block, in order."""
    src = open(path, encoding='utf-8').read().split('\n')
    out, cursor = [], 0
    for node, _ in walk(load(path)):
        if node.tag in ('example', 'code'):
            # the line of its opening tag, found in order
            while cursor < len(src) and not re.search(r'<%s[\s>]' % node.tag, src[cursor]):
                cursor += 1
            out.append((cursor + 1, node.tag, node.attrs.get('caption', ''), body(node)))
            cursor += 1
    return out


def md_blocks(path):
    out, cur, start = [], None, 0
    for n, line in enumerate(open(path, encoding='utf-8').read().split('\n'), 1):
        if cur is None and re.match(r'^```xml\s*$', line):
            cur, start = [], n + 1
        elif cur is not None and re.match(r'^```\s*$', line):
            out.append((start, 'example', '', '\n'.join(cur)))
            cur = None
        elif cur is not None:
            cur.append(line)
    return out


def cmd_blocks(d, path):
    blocks = md_blocks(path) if path.endswith('.md') else xml_blocks(path)
    with open(os.path.join(d, 'lines'), 'w') as lines:
        for i, (line, kind, cap, text) in enumerate(blocks, 1):
            with open(os.path.join(d, 'b.%d' % i), 'w', encoding='utf-8') as f:
                f.write(text + '\n')
            lines.write('%d %s %s\n' % (line, kind, cap))
    return 0


# ---- the canonical form, from the XEP's text ----------------------------------
def strtol_clamped(text):
    m = re.match(r'\s*([+-]?)(\d*)', text or '')
    v = int(m.group(2)) if m.group(2) else 0
    v = -v if m.group(1) == '-' else v
    return max(-128, min(127, v))


def item_record(it):
    jid = it.get('jid')
    sub = it.get('subscription', 'none')
    if jid is None or sub not in ('none', 'to', 'from', 'both'):
        return None
    groups = sorted({(g.text or '') for g in it.findall('{%s}group' % ROSTER)[:MAX_GROUPS]},
                    key=lambda g: g.encode())
    fields = ['R', jid, sub, 'subscribe' if it.get('ask') == 'subscribe' else '',
              it.get('name') or ''] + groups
    return b''.join(f.encode() + b'\0' for f in fields) + b'\1'


def presence_record(p):
    ns = p.tag.split('}')[0][1:]

    def first(name):
        return p.findall('{%s}%s' % (ns, name))
    shows, prios, statuses = first('show'), first('priority'), first('status')
    show = ''.join(shows[0].itertext()) if shows else ''
    prio = strtol_clamped(''.join(prios[0].itertext())) if prios else 0
    plain = [s for s in statuses if XML_LANG not in s.attrib]
    st = plain[0] if plain else (statuses[0] if statuses else None)
    status = ''.join(st.itertext()) if st is not None else ''
    fields = ['P', p.get('from'), show, str(prio), status]
    return b''.join(f.encode() + b'\0' for f in fields) + b'\1'


def records(state):
    items, pres = state
    recs = [r for r in (item_record(i) for i in items.values()) if r is not None]
    return recs + [presence_record(p) for p in pres.values()]


def digest(state, version=0):
    if version == 1:
        return lthash_digest(records(state))
    return base64.b64encode(hashlib.sha256(b''.join(sorted(records(state)))).digest()).decode()


# ---- version 1: LtHash16 ("Digest of version 1"), from RFC 8439 and the text alone

def _rotl(v, n):
    return ((v << n) | (v >> (32 - n))) & 0xffffffff


def chacha20_block(key, counter, nonce):
    """RFC 8439 section 2.3: one 64-byte block."""
    const = (0x61707865, 0x3320646e, 0x79622d32, 0x6b206574)
    st = list(const) + [int.from_bytes(key[i:i + 4], 'little') for i in range(0, 32, 4)]
    st += [counter] + [int.from_bytes(nonce[i:i + 4], 'little') for i in range(0, 12, 4)]
    x = list(st)

    def qr(a, b, c, d):
        x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = _rotl(x[d] ^ x[a], 16)
        x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = _rotl(x[b] ^ x[c], 12)
        x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = _rotl(x[d] ^ x[a], 8)
        x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = _rotl(x[b] ^ x[c], 7)
    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return b''.join(((x[i] + st[i]) & 0xffffffff).to_bytes(4, 'little') for i in range(16))


def lthash_element(record):
    """The 1024 lanes of a record: ChaCha20 under SHA-256(record), counter 0, nonce 0."""
    key = hashlib.sha256(record).digest()
    ks = b''.join(chacha20_block(key, i, bytes(12)) for i in range(32))
    return [int.from_bytes(ks[2 * i:2 * i + 2], 'little') for i in range(1024)]


def lthash_vector(recs):
    v = [0] * 1024
    for r in recs:
        v = [(a + b) & 0xffff for a, b in zip(v, lthash_element(r))]
    return v


def lthash_digest(recs):
    raw = b''.join(x.to_bytes(2, 'little') for x in lthash_vector(recs))
    return base64.b64encode(hashlib.sha256(raw).digest()).decode()


def chacha20_selftest():
    """RFC 8439 section 2.3.2: the block function's test vector."""
    key = bytes(range(32))
    nonce = bytes.fromhex('000000090000004a00000000')
    want = ('10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e'
            'd2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e')
    return chacha20_block(key, 1, nonce).hex() == want


def apply(state, children, full):
    items, pres = ({}, {}) if full else (dict(state[0]), dict(state[1]))
    roster = [c for c in children if c.tag == '{%s}query' % ROSTER]
    presences = [c for c in children if c.tag == '{%s}presence' % CLIENT]
    for p in presences:
        if p.get('type') == 'unavailable':
            jid = p.get('from')
            for k in [k for k in pres if k == jid or ('/' not in jid and k.split('/')[0] == jid)]:
                del pres[k]
    for q in roster:
        for it in q.findall('{%s}item' % ROSTER):
            if it.get('subscription') == 'remove':
                items.pop(it.get('jid'), None)
            else:
                items[it.get('jid')] = it
    for p in presences:
        if p.get('type') is None:
            pres[p.get('from')] = p
    return items, pres


def check_vectors(path, n, bad):
    """The XEP's test vectors of version 1 (a <code/> block), computed here."""
    def result(ok, what):
        nonlocal n, bad
        n += 1
        bad += 0 if ok else 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', n, what))
    result(chacha20_selftest(), 'ChaCha20 here gives RFC 8439 section 2.3.2')
    blocks = [t for _, kind, cap, t in xml_blocks(path)
              if kind == 'code' and cap.startswith('Test vectors of the digest of version 1')]
    result(len(blocks) == 1, 'the XEP has one block of test vectors of version 1')
    recs, state, seen = {}, None, 0
    for line in (blocks[0] if blocks else '').splitlines():
        m = re.match(r'record (\w+): (.*)$', line)
        if m:
            name = m.group(1)
            recs[name] = m.group(2).replace('\\0', '\0').replace('\\1', '\1').encode()
            continue
        m = re.match(r'\s*element lanes (\d+)-(\d+): ([\d ]+)$', line)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            got = lthash_element(recs[name])[lo:hi + 1]
            want = [int(x) for x in m.group(3).split()]
            result(got == want, 'record %s: lanes %d-%d %s' % (name, lo, hi, 'reproduce' if got == want else got))
            continue
        m = re.match(r'state: (.*)$', line)
        if m:
            state = [] if m.group(1) == '(empty)' else [recs[x] for x in m.group(1).split()]
            continue
        m = re.match(r'\s*digest: (\S+)$', line)
        if m and state is not None:
            got = lthash_digest(state)
            seen += 1
            result(got == m.group(1), 'vector state of %d records: digest %s%s' % (
                len(state), m.group(1), ' reproduces' if got == m.group(1) else ', computed ' + got))
    result(seen >= 3, 'the vectors give %d digests' % seen)
    return n, bad


def cmd_digests(path):
    n = bad = 0
    state = ({}, {})
    pending = None   # (head <sync/>, children so far, caption)

    def check(what, want, got):
        nonlocal n, bad
        n += 1
        if want == got:
            print('ok %d - %s: digest %s reproduces' % (n, what, want))
        else:
            bad += 1
            print('not ok %d - %s: digest %s, computed %s' % (n, what, want, got))
    for line, kind, cap, text in xml_blocks(path):
        if kind != 'example' or (NS0 not in text and NS1 not in text):
            continue
        doc = ET.fromstring('<x xmlns:c="%s">%s</x>' % (CLIENT, text))
        for iq in doc.iter('iq'):
            sync, version = iq.find('{%s}sync' % NS0), 0
            if sync is None:
                sync, version = iq.find('{%s}sync' % NS1), 1
            if iq.get('type') != 'result' or sync is None:
                continue
            what = 'line %d, %s, id %s' % (line, cap, iq.get('id'))
            kids = list(sync)
            if sync.get('type') == 'more':
                if pending is None:
                    n += 1
                    bad += 1
                    print('not ok %d - %s: a part without a first part' % (n, what))
                    continue
                pending[1].extend(kids)
                head = pending[0]
            else:
                head, pending = sync, (sync, kids, what)
            if sync.get('more'):
                continue
            head, kids, what = pending
            pending = None
            new = apply(state, kids, head.get('type') == 'full')
            check(what + (', version 1' if version else ''), head.get('digest'), digest(new, version))
            state = new
    n, bad = check_vectors(path, n, bad)
    n += 1
    empty = base64.b64encode(hashlib.sha256(b'').digest()).decode()
    if empty in open(path, encoding='utf-8').read():
        print('ok %d - the empty state digest %s is the one the text gives' % (n, empty))
    else:
        bad += 1
        print('not ok %d - the text does not give the empty state digest %s' % (n, empty))
    print('1..%d' % n)
    return 1 if bad or n < 2 else 0


KEYWORDS = re.compile(r'\b(must|should|required|recommended)\b')


def cmd_keywords(path):
    xep = load(path)
    found = []

    def prose(node, where):
        for k in node.kids:
            if isinstance(k, str):
                for m in KEYWORDS.finditer(k):
                    found.append('%s: "...%s..."' % (where, k[max(0, m.start() - 30):m.end() + 30].strip()))
            elif k.tag not in ('example', 'code', 'legal', 'tt'):
                prose(k, k.attrs.get('topic', where))
    prose(xep, 'header')
    print('1..1')
    if found:
        print('not ok 1 - RFC 2119 key words are upper case (%d in lower case)' % len(found))
        for f in found:
            print('#   ' + re.sub(r'\s+', ' ', f))
        return 1
    print('ok 1 - every RFC 2119 key word in the prose is upper case')
    return 0


def cmd_titles(path):
    for node, _ in walk(load(path)):
        if re.match(r'section[1-5]$', node.tag):
            print(node.attrs.get('topic', ''))
    return 0


def main(argv):
    try:
        if len(argv) == 3 and argv[0] == 'blocks':
            return cmd_blocks(argv[1], argv[2])
        if len(argv) == 2 and argv[0] in ('digests', 'keywords', 'titles'):
            return {'digests': cmd_digests, 'keywords': cmd_keywords,
                    'titles': cmd_titles}[argv[0]](argv[1])
    except (ValueError, OSError, ET.ParseError, render.expat.ExpatError) as e:
        print('Bail out! xeptool.py: %s' % e)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
