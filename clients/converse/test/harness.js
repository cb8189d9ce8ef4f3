// harness.js - the real lab (Prosody + synckeyd, lab-up.sh), ordinary contacts (contacts.py),
// the static page server (serve.js) and headless Chromium (playwright-core, /usr/bin/chromium),
// every process stopped by its PID, every wait bounded.
'use strict';
const { spawn } = require('child_process');
const path = require('path');
const fs = require('fs');
const readline = require('readline');

const HERE = __dirname;
const ROOT = path.join(HERE, '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const children = [];

function track (p, name) {
    children.push({ p, name });
    return p;
}
function stopAll () {
    for (const { p } of children.reverse()) {
        if (p.exitCode === null && p.signalCode === null) { try { process.kill(p.pid, 'SIGTERM'); } catch (e) { /* gone */ } }
    }
}
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopAll(); process.exit(130); });

function lineWaiter (stream) {
    const rl = readline.createInterface({ input: stream });
    const lines = [];
    let waiting = null;
    rl.on('line', l => { lines.push(l); if (waiting) waiting(); });
    return async (pred, ms, what) => {
        const end = Date.now() + ms;
        for (;;) {
            const i = lines.findIndex(pred);
            if (i >= 0) return lines.splice(i, 1)[0];
            const left = end - Date.now();
            if (left <= 0) throw new Error(`no ${what} within ${ms / 1000} s`);
            await new Promise(res => { const t = setTimeout(res, Math.min(left, 500)); waiting = () => { clearTimeout(t); res(); }; });
        }
    };
}

/** lab-up.sh SCENARIO C2S COMP HTTP: resolves once READY (60 s at most). */
async function startLab (scenario, ports, flags = [], ms = 150000) {
    const p = track(spawn('sh', [path.join(HERE, 'lab-up.sh'), scenario, String(ports.c2s), String(ports.comp), String(ports.http), ...flags],
        { stdio: ['pipe', 'pipe', 'inherit'] }), 'lab');
    const wait = lineWaiter(p.stdout);
    const labLine = await wait(l => l.startsWith('LAB '), ms, 'lab folder');
    await wait(l => l === 'READY', ms, 'lab READY');
    return { proc: p, dir: labLine.slice(4), ports, stop: () => stopProc(p, 20000) };
}
async function stopProc (p, ms = 10000) {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise(res => p.once('exit', res));
    try { process.kill(p.pid, 'SIGTERM'); } catch (e) { return; }
    const t = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, ms);
    await done;
    clearTimeout(t);
}

/** contacts.py: ordinary sessions on the lab. */
function startContacts (c2s) {
    const p = track(spawn('/usr/bin/python3', [path.join(HERE, 'contacts.py')],
        { stdio: ['pipe', 'pipe', 'inherit'], env: Object.assign({}, process.env, { LAB_C2S: String(c2s) }) }), 'contacts');
    const wait = lineWaiter(p.stdout);
    const cmd = async (o, ms = 60000) => {
        p.stdin.write(JSON.stringify(o) + '\n');
        const r = JSON.parse(await wait(() => true, ms, 'answer to ' + o.op));
        if (!r.ok) throw new Error(`contacts.py ${o.op}: ${r.error}`);
        return r;
    };
    return { cmd, stop: async () => { try { p.stdin.end(JSON.stringify({ op: 'quit' }) + '\n'); } catch (e) { /* closed */ } await stopProc(p, 5000); } };
}

async function startServer (port) {
    const p = track(spawn(process.execPath, [path.join(ROOT, 'serve.js'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] }), 'serve');
    await lineWaiter(p.stdout)(l => l.startsWith('listening'), 10000, 'page server');
    return { stop: () => stopProc(p) };
}

async function launchBrowser () {
    const { chromium } = require('playwright-core');
    const udd = fs.mkdtempSync('/tmp/cv-chromium-');
    const ctx = await chromium.launchPersistentContext(udd, {
        executablePath: CHROMIUM, headless: true, timeout: 60000, viewport: { width: 1100, height: 900 },
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    return { ctx, close: async () => { await ctx.close().catch(() => {}); fs.rmSync(udd, { recursive: true, force: true }); } };
}

/** a new tab on the page, with the WebSocket bytes counted (CDP Network.webSocketFrameReceived) and the console kept. */
async function openPage (ctx, base, wsUrl, plugin) {
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    const meter = { bytes: 0, frames: 0, sent: 0 };
    cdp.on('Network.webSocketFrameReceived', e => { meter.bytes += Buffer.byteLength(e.response.payloadData, e.response.opcode === 2 ? 'base64' : 'utf8'); meter.frames++; });
    cdp.on('Network.webSocketFrameSent', e => { meter.sent += Buffer.byteLength(e.response.payloadData); });
    const consoleLines = [];
    page.on('console', m => consoleLines.push(m.text()));
    page.on('pageerror', e => consoleLines.push('pageerror: ' + e.message));
    page.on('dialog', d => d.accept().catch(() => {}));
    await page.goto(`${base}/index.html?plugin=${plugin ? 1 : 0}&ws=${encodeURIComponent(wsUrl)}`, { timeout: 30000 });
    return { page, meter, console: consoleLines };
}

/** types the JID and password into converse's login form and submits it, as a person does. */
async function login (page, jid, pw) {
    await page.fill('input[name="jid"]', jid, { timeout: 30000 });
    await page.fill('input[name="password"]', pw);
    await page.click('form.converse-form input[type="submit"]');
}

/** the logout button of converse's profile, and its confirmation, as a person does */
async function logout (page) {
    await page.click('a.logout', { timeout: 10000 });
    await page.click('.modal.show .btn-primary', { timeout: 10000 }).catch(() => {});
    await page.waitForSelector('input[name="jid"]', { timeout: 15000 });
}

/** the roster panel as shown: one entry per contact: {jid, name, status, groups} */
async function readRoster (page) {
    const rows = await page.evaluate(() => Array.from(document.querySelectorAll('converse-roster li.list-item')).map(li => {
        const a = li.querySelector('a.open-chat');
        const m = a && /\(XMPP address: (.*)\)$/.exec(a.getAttribute('title') || '');
        const g = li.closest('.roster-group');
        return { jid: m ? m[1] : null, name: (li.querySelector('.contact-name') || {}).textContent || '',
            status: li.getAttribute('data-status'), group: g ? g.getAttribute('data-group') : null };
    }));
    const by = new Map();
    for (const r of rows) {
        if (!r.jid) continue;
        const e = by.get(r.jid) || { jid: r.jid, name: r.name.trim(), status: r.status, groups: [] };
        e.groups.push(r.group);
        by.set(r.jid, e);
    }
    for (const e of by.values()) e.groups.sort();
    return by;
}

/** what converse must show for the server's truth: name, status of the highest-priority resource, groups */
function expected (truth) {
    const want = new Map();
    for (const it of truth.items) {
        const res = Object.entries(truth.presence).filter(([f]) => f.split('/')[0] === it.jid).map(([, p]) => p);
        res.sort((a, b) => b.prio - a.prio);
        const online = it.subscription === 'both' || it.subscription === 'to';
        const status = res.length && online ? (res[0].show || 'online') : 'offline';
        // converse.js 10 with roster_groups (its default): the roster groups, or "Ungrouped"
        const groups = it.groups.length ? it.groups.slice() : ['Ungrouped'];
        want.set(it.jid, { jid: it.jid, name: it.name || it.jid, status, groups: groups.sort() });
    }
    return want;
}
/** differences between the panel and the truth, as text (empty: equal) */
function diff (shown, truth) {
    const want = expected(truth);
    const out = [];
    for (const [jid, w] of want) {
        const s = shown.get(jid);
        if (!s) { out.push(`${jid}: missing from the panel`); continue; }
        for (const f of ['name', 'status']) if (s[f] !== w[f]) out.push(`${jid}: ${f} shown ${JSON.stringify(s[f])}, server ${JSON.stringify(w[f])}`);
        if (JSON.stringify(s.groups) !== JSON.stringify(w.groups)) out.push(`${jid}: groups shown ${JSON.stringify(s.groups)}, server ${JSON.stringify(w.groups)}`);
    }
    for (const jid of shown.keys()) if (!want.has(jid)) out.push(`${jid}: shown but not on the server's roster`);
    return out;
}
/** waits (bounded) until the panel equals the truth; returns { ms, diff } */
async function waitEqual (page, truth, ms, t0 = Date.now()) {
    const end = t0 + ms;
    let d;
    for (;;) {
        d = diff(await readRoster(page), truth);
        if (!d.length) return { ms: Date.now() - t0, diff: d };
        if (Date.now() > end) return { ms: null, diff: d };
        await new Promise(r => setTimeout(r, 50));
    }
}

function tap () {
    let n = 0, bad = 0;
    const ok = (cond, what, diag) => {
        n++;
        if (cond) console.log(`ok ${n} - ${what}`);
        else {
            bad++;
            console.log(`not ok ${n} - ${what}`);
            if (diag !== undefined) console.log('# ' + (typeof diag === 'string' ? diag : JSON.stringify(diag)).slice(0, 2000).replace(/\n/g, '\n# '));
        }
        return cond;
    };
    return { ok, done: () => { console.log(`1..${n}`); return bad; }, get bad () { return bad; } };
}

module.exports = { CHROMIUM, logout, startLab, startContacts, startServer, launchBrowser, openPage, login, readRoster, expected, diff, waitEqual, tap, stopAll, stopProc, ROOT };
