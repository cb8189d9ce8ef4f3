/*
 * synckey-core.js - the client rules of urn:xmpp:synckey:0 (xep/synckey.xml,
 * "Protocol" and "Canonical form for the digest") with no converse.js in them: reading an answer from DOM
 * elements, applying it to a state, and the digest.  Runs in the browser
 * (window.synckeyCore) and in node (require) for the unit tests.
 *
 * A state is { items: Map(jid -> item), pres: Map(full jid -> presence) }
 * item = { jid, sub, ask, name, groups: [..] }   (groups: a sorted set)
 * presence = { from, show, priority: int, status }
 */
(function (root, factory) {
    if (typeof module === 'object' && module.exports) module.exports = factory();
    else root.synckeyCore = factory();
}(typeof self !== 'undefined' ? self : this, function () {
    'use strict';

    const NS = 'urn:xmpp:synckey:0';
    const NS_ADAPTER = 'urn:xmpp:synckey:adapter:0';
    const NS_ROSTER = 'jabber:iq:roster';
    const NS_CLIENT = 'jabber:client';
    const NS_XML = 'http://www.w3.org/XML/1998/namespace';

    // What the plugin accepts from one answer (all its parts).  The
    // component's own bounds (xep/ "Business rules") are far below these.
    const LIMITS = {
        parts: 2048,          // parts of one paged answer
        items: 100000,        // roster items in one state
        presences: 200000,    // presence records in one state
        children: 400000,     // children of one answer, all parts
        groups: 256,          // groups taken per item (xep/ "Field values, byte-exact")
        text: 1048576,        // characters of one jid, name, group, show or status
    };
    const SUBS = new Set(['none', 'to', 'from', 'both']);
    const TYPES_FIRST = new Set(['delta', 'full']);
    const TOKEN_RE = /^[A-Za-z0-9_-]{1,128}$/;
    const DIGEST_RE = /^[A-Za-z0-9+/]{43}=$/;
    const CLIENT_RE = /^[A-Za-z0-9._-]{1,64}$/;

    class SyncError extends Error {
        constructor (reason) { super(reason); this.reason = reason; }
    }
    function fail (reason) { throw new SyncError(reason); }

    function elements (el) {
        const out = [];
        for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n);
        return out;
    }
    function localName (el) { return el.localName || el.nodeName.replace(/^.*:/, ''); }
    function nsOf (el) { return el.namespaceURI || null; }
    // The text of an element: the concatenation of its character data children.
    function text (el) {
        let s = '';
        for (let n = el.firstChild; n; n = n.nextSibling) {
            if (n.nodeType === 3 || n.nodeType === 4) s += n.nodeValue;
        }
        if (s.length > LIMITS.text) fail('a text is longer than ' + LIMITS.text + ' characters');
        return s;
    }
    function attr (el, name) {
        return el.hasAttribute(name) ? el.getAttribute(name) : null;
    }
    function firstChild (el, name) {
        for (const c of elements(el)) {
            const ns = nsOf(c);
            if (localName(c) === name && (ns === null || ns === NS_CLIENT)) return c;
        }
        return null;
    }
    function hasOwnLang (el) {
        return (el.hasAttributeNS && el.hasAttributeNS(NS_XML, 'lang')) || el.hasAttribute('xml:lang');
    }

    // C strtol(text, NULL, 10), clamped to -128..127 (xep/ "Field values, byte-exact").
    function parsePriority (s) {
        let i = 0;
        while (i < s.length && ' \t\n\v\f\r'.includes(s[i])) i++;
        let neg = false;
        if (s[i] === '+' || s[i] === '-') { neg = s[i] === '-'; i++; }
        let v = 0, digits = 0;
        while (i < s.length && s[i] >= '0' && s[i] <= '9') {
            if (v < 1000) v = v * 10 + (s.charCodeAt(i) - 48);
            i++; digits++;
        }
        if (!digits) return 0;
        if (neg) v = -v;
        return v < -128 ? -128 : (v > 127 ? 127 : v);
    }

    const enc = new TextEncoder();
    function cmpBytes (a, b) {
        const n = Math.min(a.length, b.length);
        for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
        return a.length - b.length;
    }
    // bytewise (i;octet) order of the UTF-8 forms
    function sortBytewise (strings) {
        return strings.map(s => [enc.encode(s), s]).sort((x, y) => cmpBytes(x[0], y[0])).map(x => x[1]);
    }

    /** A roster <item/> as a record, or null when it is not part of the state. */
    function readItem (el) {
        const jid = attr(el, 'jid');
        if (jid === null) return { skip: true };
        if (jid.length > LIMITS.text) fail('a jid is too long');
        const subAttr = attr(el, 'subscription');
        if (subAttr === 'remove') return { jid, remove: true };
        const sub = subAttr === null ? 'none' : subAttr;
        if (!SUBS.has(sub)) return { jid, invalid: true };
        const groups = [];
        let n = 0;
        for (const g of elements(el)) {
            if (localName(g) !== 'group') continue;
            if (n++ >= LIMITS.groups) break;
            groups.push(text(g));
        }
        return {
            jid, sub,
            ask: attr(el, 'ask') === 'subscribe' ? 'subscribe' : '',
            name: attr(el, 'name') || '',
            groups: sortBytewise([...new Set(groups)]),
        };
    }

    /** A <presence/> child: { from, unavailable } or { from, show, priority, status }. */
    function readPresence (el) {
        const from = attr(el, 'from');
        if (!from) fail('a presence without from');
        if (from.length > LIMITS.text) fail('a presence from a too long jid');
        const type = attr(el, 'type');
        if (type === 'unavailable') return { from, unavailable: true };
        if (type !== null) fail('a presence of type ' + JSON.stringify(type) + ' in an answer');
        const show = firstChild(el, 'show');
        const prio = firstChild(el, 'priority');
        // status: the first without xml:lang, else the first
        let st = null;
        for (const c of elements(el)) {
            const ns = nsOf(c);
            if (localName(c) === 'status' && (ns === null || ns === NS_CLIENT) && !hasOwnLang(c)) { st = c; break; }
        }
        if (st === null) st = firstChild(el, 'status');
        return {
            from,
            show: show ? text(show) : '',
            priority: prio ? parsePriority(text(prio)) : 0,
            status: st ? text(st) : '',
        };
    }

    /**
     * Reads one <sync/> result element (a part).  first: whether it is the
     * first part.  Returns { type, reason, key, digest, more, partial,
     * items: [el...], presences: [el...] } or throws SyncError.
     */
    function readPart (sync, first) {
        if (!sync || localName(sync) !== 'sync' || nsOf(sync) !== NS) fail('the result holds no <sync xmlns="' + NS + '"/>');
        const type = attr(sync, 'type');
        const part = {
            type, reason: attr(sync, 'reason'), key: attr(sync, 'key'), digest: attr(sync, 'digest'),
            more: attr(sync, 'more'), partial: attr(sync, 'presence') === 'partial', items: [], presences: [],
        };
        if (first) {
            if (!TYPES_FIRST.has(type)) fail('unknown answer type ' + JSON.stringify(type));
            if (part.key === null || !TOKEN_RE.test(part.key)) fail('the answer has no usable key');
            if (part.digest === null || !DIGEST_RE.test(part.digest)) fail('the answer has no usable digest');
            if (type === 'full' && !part.reason) fail('a full answer without reason');
        } else if (type !== 'more') {
            fail('a later part of type ' + JSON.stringify(type) + ' (expected more)');
        }
        if (part.more !== null && !TOKEN_RE.test(part.more)) fail('a malformed page token');
        for (const c of elements(sync)) {
            const name = localName(c), ns = nsOf(c);
            if (name === 'query' && ns === NS_ROSTER) {
                for (const it of elements(c)) if (localName(it) === 'item') part.items.push(it);
            } else if (name === 'presence' && (ns === NS_CLIENT || ns === null)) {
                part.presences.push(c);
            } // anything else: not part of version 0's answer, ignored
        }
        return part;
    }

    function newState () { return { items: new Map(), pres: new Map() }; }
    function cloneState (st) {
        return { items: new Map(st.items), pres: new Map(st.pres) };
    }
    function bareOf (jid) { const i = jid.indexOf('/'); return i < 0 ? jid : jid.slice(0, i); }

    /**
     * Applies an answer (its parts, in order) to a copy of state (section
     * 8.3): full empties; then unavailable presences, items, available
     * presences, each in document order.  Returns { state, changed: Set of
     * bare JIDs touched }.
     */
    function applyAnswer (state, parts) {
        if (!parts.length) fail('no parts');
        if (parts.length > LIMITS.parts) fail('more than ' + LIMITS.parts + ' parts');
        const first = parts[0];
        const st = first.type === 'full' ? newState() : cloneState(state);
        const changed = new Set();
        const items = [], avail = [], unavail = [];
        let children = 0;
        for (const p of parts) {
            children += p.items.length + p.presences.length;
            if (children > LIMITS.children) fail('more than ' + LIMITS.children + ' children in one answer');
            for (const el of p.items) {
                // xep/ "Sync result", malformed answers: the whole answer is refused
                const it = readItem(el);
                if (it.skip) fail('an item without jid in an answer');
                if (it.invalid) fail('an item of an unknown subscription in an answer');
                items.push(it);
            }
            for (const el of p.presences) {
                const r = readPresence(el);
                (r.unavailable ? unavail : avail).push(r);
            }
        }
        for (const u of unavail) {
            changed.add(bareOf(u.from));
            if (u.from.includes('/')) st.pres.delete(u.from);
            else for (const k of [...st.pres.keys()]) if (bareOf(k) === u.from) st.pres.delete(k);
        }
        for (const it of items) {
            changed.add(it.jid);
            if (it.remove) st.items.delete(it.jid);
            else st.items.set(it.jid, it);
        }
        for (const p of avail) {
            changed.add(bareOf(p.from));
            st.pres.set(p.from, p);
        }
        if (st.items.size > LIMITS.items) fail('more than ' + LIMITS.items + ' roster items');
        if (st.pres.size > LIMITS.presences) fail('more than ' + LIMITS.presences + ' presences');
        return { state: st, changed };
    }

    /** The canonical form (xep/ "Records and order") as bytes. */
    function canonical (st) {
        const recs = [];
        const rec = fields => {
            let s = '';
            for (const f of fields) s += f + '\u0000';
            return enc.encode(s + '\u0001');
        };
        for (const it of st.items.values()) recs.push(rec(['R', it.jid, it.sub, it.ask, it.name, ...it.groups]));
        for (const p of st.pres.values()) recs.push(rec(['P', p.from, p.show, String(p.priority), p.status]));
        recs.sort(cmpBytes);
        let len = 0;
        for (const r of recs) len += r.length;
        const out = new Uint8Array(len);
        let o = 0;
        for (const r of recs) { out.set(r, o); o += r.length; }
        return out;
    }

    function b64 (bytes) {
        let s = '';
        for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
        return typeof btoa === 'function' ? btoa(s) : Buffer.from(bytes).toString('base64');
    }

    /** SHA-256 of the canonical form, base64 (WebCrypto). */
    async function digest (st) {
        const subtle = (typeof crypto !== 'undefined' && crypto.subtle) || require('crypto').webcrypto.subtle; // node 18: no global crypto
        const h = await subtle.digest('SHA-256', canonical(st));
        return b64(new Uint8Array(h));
    }

    // -- the cache: a state as JSON ------------------------------------
    function toJSON (st) {
        return { items: [...st.items.values()], pres: [...st.pres.values()] };
    }
    function fromJSON (o) {
        const st = newState();
        if (!o || !Array.isArray(o.items) || !Array.isArray(o.pres)) fail('a cached state of the wrong shape');
        if (o.items.length > LIMITS.items || o.pres.length > LIMITS.presences) fail('a cached state beyond the limits');
        for (const it of o.items) {
            if (typeof it.jid !== 'string' || !SUBS.has(it.sub) || !Array.isArray(it.groups)) fail('a cached item of the wrong shape');
            st.items.set(it.jid, { jid: it.jid, sub: it.sub, ask: it.ask === 'subscribe' ? 'subscribe' : '', name: String(it.name || ''), groups: it.groups.map(String) });
        }
        for (const p of o.pres) {
            if (typeof p.from !== 'string') fail('a cached presence of the wrong shape');
            st.pres.set(p.from, { from: p.from, show: String(p.show || ''), priority: p.priority | 0, status: String(p.status || '') });
        }
        return st;
    }

    // -- live updates after the sync (what a fresh session would hold) --
    /** A roster push's item applied to the state (xep/ "The state": presence only for to/both). */
    function applyPush (st, el) {
        const it = readItem(el);
        if (it.skip) return;
        if (it.remove || it.invalid) st.items.delete(it.jid);
        else st.items.set(it.jid, it);
        const cur = st.items.get(it.jid);
        if (!cur || (cur.sub !== 'to' && cur.sub !== 'both')) {
            for (const k of [...st.pres.keys()]) if (bareOf(k) === it.jid) st.pres.delete(k);
        }
    }
    /** A live presence applied to the state; false when it is not state (own, non-contact, other type). */
    function applyLivePresence (st, el, ownBare) {
        const from = attr(el, 'from');
        const type = attr(el, 'type');
        if (!from || (type !== null && type !== 'unavailable')) return false;
        const bare = bareOf(from);
        if (bare === ownBare) return false;
        const it = st.items.get(bare);
        if (type === 'unavailable') {
            if (from.includes('/')) st.pres.delete(from);
            else for (const k of [...st.pres.keys()]) if (bareOf(k) === bare) st.pres.delete(k);
            return true;
        }
        if (!it || (it.sub !== 'to' && it.sub !== 'both')) return false;
        st.pres.set(from, readPresence(el));
        return true;
    }

    return {
        NS, NS_ADAPTER, NS_ROSTER, NS_CLIENT, LIMITS, TOKEN_RE, DIGEST_RE, CLIENT_RE, SyncError,
        parsePriority, readItem, readPresence, readPart, applyAnswer, canonical, digest,
        newState, cloneState, toJSON, fromJSON, applyPush, applyLivePresence, bareOf, sortBytewise,
    };
}));
