#!/usr/bin/env node
// browser.js - converse.js + the synckey plugin in headless Chromium against a real Prosody 0.12
// and synckeyd (lab-up.sh), used as a person uses it: the login form, the roster panel read
// from the DOM and compared with the server's truth (a fresh ordinary login, contacts.py).
// TAP on stdout.  OUT=folder keeps the screenshot and the byte counts.  Ports 127.0.0.1:42000-42003
// (CV_PORT_BASE moves them).
'use strict';
const fs = require('fs');
const path = require('path');
const h = require('./harness');

const base = Number(process.env.CV_PORT_BASE || 42000);
const P = { c2s: base, comp: base + 1, http: base + 2, page: base + 3 };
const OUT = process.env.OUT || path.join(h.ROOT, 'out');
const WS = `ws://127.0.0.1:${P.http}/xmpp-websocket`;
const PAGE = `http://127.0.0.1:${P.page}`;
const t = h.tap();
const reports = page => page.evaluate(() => window.synckeyReports || []);
const last = async page => (await reports(page)).filter(r => r.mode !== 'checkpoint').slice(-1)[0] || {};

async function waitReport (page, pred, ms) {
    const end = Date.now() + ms;
    for (;;) {
        const r = (await reports(page)).find(pred);
        if (r || Date.now() > end) return r;
        await new Promise(res => setTimeout(res, 100));
    }
}
const { logout } = h;

async function main () {
    fs.mkdirSync(OUT, { recursive: true });
    const lab = await h.startLab('small', P, ['--stanza-budget', '4096']);
    const srv = await h.startServer(P.page);
    const c = h.startContacts(P.c2s);
    const b = await h.launchBrowser();
    try {
        // contacts online before alice's first login
        await c.cmd({ op: 'online', user: 'bob', show: 'away', status: 'at lunch', prio: 5 });
        await c.cmd({ op: 'online', user: 'carl' });
        await c.cmd({ op: 'online', user: 'ivy', res: 'r1', show: 'away', prio: 1 });
        await c.cmd({ op: 'online', user: 'ivy', res: 'r2', show: 'dnd', prio: 5 });
        await c.cmd({ op: 'online', user: 'hal', show: 'xa', status: 'Ünïcode status' });

        // 1. first login with the plugin: a full sync fills the panel
        let s = await h.openPage(b.ctx, PAGE, WS, true);
        await h.login(s.page, 'alice@p.test', 'pw');
        let truth = (await c.cmd({ op: 'truth' })).truth;
        let r = await h.waitEqual(s.page, truth, 20000);
        t.ok(!r.diff.length, 'first login: the roster panel (names, groups, statuses) equals the server\'s truth', r.diff);
        let rep = await last(s.page);
        t.ok(rep.mode === 'full' && rep.reason === 'no-key', 'first login is a full sync (no-key)', rep);
        t.ok(rep.parts > 1, `the full answer came in ${rep.parts} parts (stanza budget 4096), all applied`, rep);
        t.ok(!s.console.some(l => /converse-synckey: standard/.test(l)), 'no fall-back on the first login', s.console.filter(l => /synckey/.test(l)));

        // 2. live after the sync: presence and a roster push reach the panel
        await c.cmd({ op: 'online', user: 'dave', show: 'chat' });
        await c.cmd({ op: 'offline', user: 'carl' });
        await c.cmd({ op: 'roster_set', jid: 'kim@p.test', name: 'Kim', groups: ['Work'] });
        truth = (await c.cmd({ op: 'truth' })).truth;
        r = await h.waitEqual(s.page, truth, 15000);
        t.ok(!r.diff.length, 'live presence and a roster push after the sync reach the panel', r.diff);

        // 3. clean logout: checkpoint first
        await logout(s.page);
        const cp = await waitReport(s.page, x => x.mode === 'checkpoint', 5000);
        t.ok(!!cp, 'a clean logout checkpoints first', await reports(s.page));
        await s.page.close();

        // 4. while the page is closed: statuses and the roster change
        await c.cmd({ op: 'offline', user: 'bob' });
        await c.cmd({ op: 'online', user: 'erin', show: 'dnd', status: 'busy' });
        await c.cmd({ op: 'offline', user: 'ivy', res: 'r2' });
        await c.cmd({ op: 'online', user: 'hal', show: 'away', status: 'back soon' });
        await c.cmd({ op: 'roster_set', jid: 'hal@p.test', name: 'Hal', groups: ['Work', 'Família'] });
        await c.cmd({ op: 'roster_remove', jid: 'gus@p.test' });
        await c.cmd({ op: 'roster_set', jid: 'lee@p.test', name: 'Lee', groups: [] });
        await c.cmd({ op: 'online', user: 'lee', show: 'away' });

        // 5. reopen, log in: a delta, the panel equals the truth
        s = await h.openPage(b.ctx, PAGE, WS, true);
        const t0 = Date.now();
        await h.login(s.page, 'alice@p.test', 'pw');
        truth = (await c.cmd({ op: 'truth' })).truth;
        r = await h.waitEqual(s.page, truth, 20000, t0);
        t.ok(!r.diff.length, 'after changes while the page was closed: the panel equals the server\'s truth', r.diff);
        rep = await last(s.page);
        // bob, erin, ivy, hal, gus, lee changed (lee: the item, then its presence); kim and dave came in before the checkpoint
        t.ok(rep.mode === 'delta' && rep.changed === 6, 'the reconnect is a delta of exactly the 6 contacts that changed', rep);
        await new Promise(res => setTimeout(res, 500));
        const pluginBytes = s.meter.bytes;
        await s.page.screenshot({ path: path.join(OUT, 'roster-after-delta.png') });
        t.ok(fs.statSync(path.join(OUT, 'roster-after-delta.png')).size > 1000, 'screenshot of the roster after the delta written');
        await s.page.close();   // no logout: the key of this sync stays

        // 6. a wrong cached state (a contact dropped from it): the digest catches it, a full sync repairs it
        s = await h.openPage(b.ctx, PAGE, WS, true);
        await s.page.evaluate(() => {
            const k = 'converse-synckey-alice@p.test';
            const o = JSON.parse(localStorage.getItem(k));
            o.state.items = o.state.items.filter(i => i.jid !== 'carl@p.test');
            o.state.pres = o.state.pres.filter(p => !p.from.startsWith('hal@'));
            localStorage.setItem(k, JSON.stringify(o));
        });
        await h.login(s.page, 'alice@p.test', 'pw');
        truth = (await c.cmd({ op: 'truth' })).truth;
        r = await h.waitEqual(s.page, truth, 20000);
        t.ok(!r.diff.length, 'a corrupted cache: the panel still equals the server\'s truth', r.diff);
        rep = await last(s.page);
        t.ok(rep.mode === 'full-after-mismatch' && /digest mismatch/.test(rep.reason || ''), 'the digest mismatch is detected and repaired by a sync without key', rep);
        t.ok(s.console.some(l => /converse-synckey: digest mismatch/.test(l)), 'the console names the reason (digest mismatch)');
        await s.page.close();

        // 7. plain converse.js on the same lab, a fresh profile: the same panel, more bytes
        const plain = await h.launchBrowser();
        try {
            s = await h.openPage(plain.ctx, PAGE, WS, false);
            await h.login(s.page, 'alice@p.test', 'pw');
            r = await h.waitEqual(s.page, truth, 20000);
            t.ok(!r.diff.length, 'plain converse.js shows the same roster (the comparison itself is sound)', r.diff);
            await s.page.close();
            // reconnect of plain converse.js (its roster cached in IndexedDB, roster versioning)
            s = await h.openPage(plain.ctx, PAGE, WS, false);
            await h.login(s.page, 'alice@p.test', 'pw');
            r = await h.waitEqual(s.page, truth, 20000);
            await new Promise(res => setTimeout(res, 500));
            const plainBytes = s.meter.bytes;
            fs.writeFileSync(path.join(OUT, 'browser-bytes.json'), JSON.stringify({ plugin_reconnect: pluginBytes, plain_reconnect: plainBytes }) + '\n');
            t.ok(!r.diff.length && pluginBytes > 0 && pluginBytes < plainBytes,
                `WebSocket bytes received on reconnect: plugin ${pluginBytes} < plain ${plainBytes}`, { pluginBytes, plainBytes });
            await s.page.close();
        } finally { await plain.close(); }

        // 8. the component is down: the plugin falls back to the standard login, statuses still right
        try { process.kill(Number(fs.readFileSync(path.join(lab.dir, 'synckeyd.pid'), 'utf8')), 'SIGTERM'); } catch (e) { /* stopped */ }
        await new Promise(res => setTimeout(res, 1500));
        await c.cmd({ op: 'online', user: 'mia', show: 'away' });
        s = await h.openPage(b.ctx, PAGE, WS, true);
        await h.login(s.page, 'alice@p.test', 'pw');
        truth = (await c.cmd({ op: 'truth' })).truth;
        r = await h.waitEqual(s.page, truth, 30000);
        t.ok(!r.diff.length, 'component down: the panel still equals the server\'s truth', r.diff);
        rep = await last(s.page);
        t.ok(rep.mode === 'standard' && s.console.some(l => /converse-synckey: standard/.test(l)), 'component down: standard login, the console says why', rep);
        await s.page.close();
    } finally {
        await b.close();
        await c.stop();
        await srv.stop();
        await lab.stop();
    }
}
main().then(() => process.exit(t.done() ? 1 : 0), e => { t.ok(false, 'browser tests ran to the end', e.stack); t.done(); h.stopAll(); process.exit(1); });
