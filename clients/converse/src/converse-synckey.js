/*
 * converse-synckey.js - a converse.js (10.1) plugin for urn:xmpp:synckey:0
 * (xep/synckey.xml): the roster and the contacts' presence by key instead of
 * the roster get and the presence flood.
 *
 * Load after converse.js and synckey-core.js, then
 *   converse.initialize({ whitelisted_plugins: ['converse-synckey'], ... })
 *
 * It overrides RosterContacts#fetchRosterContacts (the roster plugin's fetch):
 *  1. discovery (xep/ "Discovery") from converse's own disco entities: the domain
 *     (delegation) or an item with urn:xmpp:synckey:0; the adapter feature
 *     on the domain (xep/ "Server adapters");
 *  2. the marked initial presence (xep/ "The presence marker"), then the sync with the cached key,
 *     every part (8.4), holding the presence that arrives meanwhile;
 *  3. the answer applied to the cached state, the digest checked (8.3, 9):
 *     on a mismatch the key is dropped and a sync without key follows;
 *  4. converse's roster and presences set from the state, the held presence
 *     applied, then live presence and roster pushes as usual (and tracked,
 *     so that the checkpoint before a clean logout (7.7, 8.6) stores the
 *     state its key names).
 * Whenever the service is missing or an answer is unusable, converse's own
 * fetch runs (RFC 6121), and the console says why ("converse-synckey: ...").
 * Cache: localStorage "converse-synckey-<bare jid>" = { key, digest, state }
 * written in one setItem; the client ID in "converse-synckey-client-<bare jid>".
 * What it did: window.synckeyReports (a list) and the event "synckeyReport".
 */
(function () {
    'use strict';
    const core = window.synckeyCore;
    const { NS, NS_ADAPTER, SyncError } = core;
    const TIMEOUT_DISCO = 10000, TIMEOUT_SYNC = 20000, TIMEOUT_CHECKPOINT = 5000;
    const MAX_HELD = 100000;       // presences held while the answer is in flight
    const MAX_CACHE = 64 * 1024 * 1024;

    window.synckeyReports = window.synckeyReports || [];

    function withTimeout (promise, ms, what) {
        let t;
        return Promise.race([promise, new Promise((_, rej) => { t = setTimeout(() => rej(new SyncError(what + ' took longer than ' + ms / 1000 + ' s')), ms); })])
            .finally(() => clearTimeout(t));
    }

    converse.plugins.add('converse-synckey', {
        dependencies: ['converse-roster', 'converse-disco', 'converse-status'],

        overrides: {
            RosterContacts: {
                fetchRosterContacts () {
                    const standard = this.__super__.fetchRosterContacts;
                    return this.__synckey.fetch(this, standard);
                },
                presenceHandler (presence) {
                    const sup = this.__super__.presenceHandler;
                    return this.__synckey.presence(presence, sup);
                },
                onRosterPush (iq) {
                    const sup = this.__super__.onRosterPush;
                    return this.__synckey.push(iq, sup);
                },
            },
        },

        initialize () {
            const { _converse } = this;
            const { api } = _converse;
            const { Strophe, $iq, $pres, $build, u } = converse.env;
            api.settings.extend({ synckey: true });

            // one login's session of the plugin
            let sess = null;

            const log = (level, msg) => {
                const line = 'converse-synckey: ' + msg;
                (level === 'warn' ? console.warn : console.info)(line);
            };
            const report = r => {
                r.at = Date.now();
                window.synckeyReports.push(r);
                log(r.mode === 'standard' ? 'warn' : 'info',
                    `${r.mode}${r.reason ? ' (' + r.reason + ')' : ''}${r.items !== undefined ? ` items=${r.items} presences=${r.presences} changed=${r.changed}` : ''}`);
                api.trigger('synckeyReport', r);
            };
            const cacheName = () => 'converse-synckey-' + _converse.bare_jid;

            function clientId () {
                const name = 'converse-synckey-client-' + _converse.bare_jid;
                let id = localStorage.getItem(name);
                if (!id || !core.CLIENT_RE.test(id)) {
                    const b = new Uint8Array(12);
                    crypto.getRandomValues(b);
                    id = 'cv-' + Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
                    localStorage.setItem(name, id);
                }
                return id;
            }
            function loadCache () {
                const raw = localStorage.getItem(cacheName());
                if (!raw) return null;
                try {
                    if (raw.length > MAX_CACHE) throw new SyncError('the cache is too large');
                    const o = JSON.parse(raw);
                    if (typeof o.key !== 'string' || !core.TOKEN_RE.test(o.key)) throw new SyncError('the cached key is malformed');
                    return { key: o.key, state: core.fromJSON(o.state) };
                } catch (e) {
                    log('warn', 'cache dropped: ' + (e.reason || e.message));
                    localStorage.removeItem(cacheName());
                    return null;
                }
            }
            function storeCache (key, digest, state) {
                // key and state in one write: one transaction
                localStorage.setItem(cacheName(), JSON.stringify({ v: 1, key, digest, state: core.toJSON(state) }));
            }

            async function discover () {
                const domain = _converse.domain;
                const dom = await api.disco.entities.get(domain, true);
                const adapter = !!(await dom.getFeature(NS_ADAPTER));
                if (await dom.getFeature(NS)) return { jid: _converse.bare_jid, adapter };
                const seen = new Set();
                for (const item of api.disco.entities.items(domain)) {
                    const jid = item.get('jid');
                    if (seen.has(jid)) continue;
                    seen.add(jid);
                    if ((await item.getFeature(NS)) && (await item.getIdentity('component', 'presence'))) return { jid, adapter };
                }
                return { reason: `neither ${domain} nor its items offer ${NS}` };
            }

            function errorText (iq) {
                const err = iq.querySelector('error');
                const cond = err && Array.from(err.children).find(c => c.localName !== 'text');
                const text = err && err.querySelector('text');
                return (cond ? cond.localName : 'error') + (text ? ': ' + text.textContent : '');
            }
            async function sendSync (to, attrs) {
                const iq = $iq({ type: 'get', to, id: u.getUniqueId('synckey') }).c('sync', Object.assign({ xmlns: NS }, attrs));
                const res = await withTimeout(api.sendIQ(iq, TIMEOUT_SYNC, false), TIMEOUT_SYNC + 1000, 'the sync');
                if (!res) throw new SyncError('no answer to the sync');
                if (res.getAttribute('type') === 'error') {
                    const e = new SyncError('the service answered ' + errorText(res));
                    e.condition = errorText(res).split(':')[0];
                    throw e;
                }
                const sync = Array.from(res.children).find(c => c.localName === 'sync' && c.namespaceURI === NS);
                return sync;
            }
            /** every part of one answer (8.4); a lost page token: the sync again, once. */
            async function fetchAnswer (to, client, key) {
                for (let attempt = 0; ; attempt++) {
                    const attrs = key ? { client, key } : { client };
                    const parts = [core.readPart(await sendSync(to, attrs), true)];
                    try {
                        while (parts[parts.length - 1].more) {
                            if (parts.length >= core.LIMITS.parts) throw new SyncError('more than ' + core.LIMITS.parts + ' parts');
                            parts.push(core.readPart(await sendSync(to, { client, more: parts[parts.length - 1].more }), false));
                        }
                        return parts;
                    } catch (e) {
                        if (e.condition === 'item-not-found' && attempt === 0) { log('warn', 'page token refused: syncing again'); continue; }
                        throw e;
                    }
                }
            }

            /** converse's contacts and presences made equal to the state. */
            function project (roster, state) {
                let touched = 0;
                for (const m of [...roster.models]) {
                    if (!m.get('requesting') && !state.items.has(m.get('jid'))) { m.destroy(); touched++; }
                }
                for (const it of state.items.values()) {
                    const attrs = { nickname: it.name || null, ask: it.ask || null, subscription: it.sub, groups: it.groups };
                    const c = roster.get(it.jid);
                    if (!c) { roster.create(Object.assign({ jid: it.jid }, attrs), { sort: false }); touched++; continue; }
                    if (c.get('nickname') !== attrs.nickname || c.get('ask') !== attrs.ask || c.get('subscription') !== attrs.subscription ||
                        JSON.stringify(c.get('groups') || []) !== JSON.stringify(attrs.groups) || c.get('requesting')) {
                        c.save(Object.assign({ requesting: null }, attrs));
                        touched++;
                    }
                }
                const want = new Map();
                for (const p of state.pres.values()) {
                    const bare = core.bareOf(p.from);
                    if (!want.has(bare)) want.set(bare, []);
                    want.get(bare).push(p);
                }
                for (const c of roster.models) {
                    const ps = want.get(c.get('jid')) || [];
                    const res = c.presence.resources;
                    const names = new Set(ps.map(p => Strophe.getResourceFromJid(p.from) || ''));
                    for (const r of [...res.models]) if (!names.has(r.get('name'))) { r.destroy(); touched++; }
                    for (const p of ps) {
                        const name = Strophe.getResourceFromJid(p.from) || '';
                        const show = p.show === '' ? 'online' : p.show;
                        const r = res.get(name);
                        if (r && r.get('show') === show && r.get('priority') === p.priority) continue;
                        const el = $pres({ from: p.from });
                        if (p.show !== '') el.c('show').t(p.show).up();
                        el.c('priority').t(String(p.priority)).up();
                        c.presence.addResource(el.tree());
                        touched++;
                    }
                    const status = ps.length ? (ps.find(p => p.status !== '') || ps[0]).status || undefined : c.get('status');
                    if (status !== c.get('status')) c.save({ status });
                }
                return touched;
            }

            async function syncedFetch (roster, standard) {
                const t0 = performance.now();
                sess = { holding: false, held: [], state: null, key: null };
                const fallback = async (reason, markerSent) => {
                    const held = sess;
                    sess = null;
                    if (markerSent) {
                        // the adapter sent no probes for the marked presence: go
                        // unavailable so the next presence is an initial one (flood)
                        api.send($pres({ type: 'unavailable' }));
                    }
                    held.holding = false;
                    report({ mode: 'standard', reason, ms: Math.round(performance.now() - t0) });
                    _converse.session.save('roster_cached', false);
                    _converse.send_initial_presence = true;
                    return standard.call(roster);
                };
                if (!api.settings.get('synckey')) return fallback('disabled by the synckey setting', false);
                let svc;
                try {
                    svc = await withTimeout(discover(), TIMEOUT_DISCO, 'discovery');
                } catch (e) {
                    return fallback('discovery failed: ' + (e.reason || e.message), false);
                }
                if (!svc.jid) return fallback(svc.reason, false);
                if (!svc.adapter) return fallback(`${_converse.domain} has no ${NS_ADAPTER}: the server would replay presence anyway`, false);

                // converse's cached contacts (IndexedDB), as its own fetch reads them
                await new Promise(resolve => roster.fetch({ add: true, silent: true, success: resolve, error: resolve }));
                const cached = loadCache();
                const client = clientId();

                // 7.8: the marked initial presence, then the sync; hold presence meanwhile
                _converse.send_initial_presence = false;
                sess.holding = true;
                await api.user.presence.send(undefined, undefined, undefined, [$build('sync-presence', { xmlns: NS })]);

                let base = cached ? cached.state : core.newState();
                let key = cached ? cached.key : null;
                let parts, result, mismatch = null, retried = null;
                try {
                    for (let round = 0; round < 2; round++) {
                        parts = await fetchAnswer(svc.jid, client, key);
                        if (parts[0].type === 'delta' && !key) throw new SyncError('a delta answer to a sync without key');
                        result = core.applyAnswer(base, parts);
                        const d = await core.digest(result.state);
                        if (d === parts[0].digest) { mismatch = null; break; }
                        mismatch = `digest mismatch after a ${parts[0].type} answer (${d} != ${parts[0].digest})`;
                        log('warn', mismatch + ': key dropped, syncing without key');
                        retried = mismatch;
                        localStorage.removeItem(cacheName());
                        key = null;
                        base = core.newState();
                    }
                } catch (e) {
                    if (!(e instanceof SyncError)) console.error(e);
                    return fallback(e.reason || e.message || String(e), true);
                }
                if (mismatch) return fallback(mismatch + ' (twice)', true);

                const first = parts[0];
                storeCache(first.key, first.digest, result.state);
                const touched = project(roster, result.state);
                sess.state = result.state;
                sess.key = first.key;
                sess.svc = svc;
                sess.client = client;
                // the held presence, in arrival order, then live presence as it comes
                const held = sess.held;
                sess.holding = false;
                sess.held = [];
                for (const p of held) roster.presenceHandler(p);
                if (first.partial) log('warn', 'the service says presence=partial: contacts who stayed online may be missing this session');
                _converse.session.save('roster_cached', true);
                report({
                    mode: retried ? 'full-after-mismatch' : first.type === 'full' ? 'full' : (result.changed.size ? 'delta' : 'null'),
                    reason: retried || first.reason || undefined, parts: parts.length, items: result.state.items.size,
                    presences: result.state.pres.size, changed: result.changed.size, touched, held: held.length,
                    ms: Math.round(performance.now() - t0),
                });
                api.trigger('cachedRoster', roster);
            }

            _converse.RosterContacts.prototype.__synckey = {
                fetch: (roster, standard) => syncedFetch(roster, standard),
                presence (presence, sup) {
                    if (sess && sess.holding) {
                        if (sess.held.length < MAX_HELD) sess.held.push(presence);
                        return true;
                    }
                    if (sess && sess.state) core.applyLivePresence(sess.state, presence, _converse.bare_jid);
                    return sup(presence);
                },
                push (iq, sup) {
                    const r = sup(iq);
                    const from = iq.getAttribute('from');
                    if (sess && sess.state && (!from || from === _converse.bare_jid)) {
                        const item = iq.querySelector('query > item');
                        if (item) core.applyPush(sess.state, item);
                    }
                    return r;
                },
            };

            // 7.7 / 8.6: a checkpoint before a clean logout
            api.listen.on('beforeLogout', async () => {
                const s = sess;
                if (!s || !s.state || !s.key) return;
                sess = null;
                try {
                    const iq = $iq({ type: 'set', to: s.svc.jid, id: u.getUniqueId('synckey') })
                        .c('checkpoint', { xmlns: NS, client: s.client, key: s.key });
                    const res = await withTimeout(api.sendIQ(iq, TIMEOUT_CHECKPOINT, false), TIMEOUT_CHECKPOINT + 500, 'the checkpoint');
                    if (!res || res.getAttribute('type') !== 'result') throw new SyncError('checkpoint refused: ' + (res ? errorText(res) : 'no answer'));
                    const cp = Array.from(res.children).find(c => c.localName === 'checkpoint' && c.namespaceURI === NS);
                    const key = cp && cp.getAttribute('key');
                    if (!key || !core.TOKEN_RE.test(key)) throw new SyncError('checkpoint result without a usable key');
                    storeCache(key, await core.digest(s.state), s.state);
                    report({ mode: 'checkpoint', items: s.state.items.size, presences: s.state.pres.size, changed: 0 });
                } catch (e) {
                    log('warn', 'no checkpoint, the key of the last sync stays: ' + (e.reason || e.message));
                }
            });
            api.listen.on('disconnected', () => { if (sess) sess.holding = false; });
        },
    });
}());
