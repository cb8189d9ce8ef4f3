#!/usr/bin/env node
// bench.js - reconnect of plain converse.js vs converse.js + synckey in headless Chromium, on a
// real Prosody 0.12 + synckeyd: N contacts (default 1 000), 30 % of N online (taken from the
// contacts whose presence alice sees: subscription both or to), 1 % of N changing status while
// the page is closed.  Per run: a new tab on the same browser profile (converse's IndexedDB
// roster and the plugin's key kept), login typed into the form; measured: bytes received over
// the WebSocket (CDP Network.webSocketFrameReceived, the whole session: login, disco, roster,
// presence) and ms from the login click until every contact is in the panel with the server's
// status.  Then a clean logout (the plugin checkpoints).  BENCH_RUNS (5), BENCH_N (1000).
// Ports 127.0.0.1:42010-42013.  Prints a Markdown row per mode and writes OUT/bench.json.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const h = require('./test/harness');

const N = Number(process.env.BENCH_N || 1000);
const RUNS = Number(process.env.BENCH_RUNS || 5);
const base = Number(process.env.CV_PORT_BASE || 42010);
const P = { c2s: base, comp: base + 1, http: base + 2, page: base + 3 };
const OUT = process.env.OUT || path.join(__dirname, 'out');
const WS = `ws://127.0.0.1:${P.http}/xmpp-websocket`;
const PAGE = `http://127.0.0.1:${P.page}`;
const name = i => 'c' + String(i).padStart(4, '0');
const median = a => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

const { logout } = h;

async function main () {
    fs.mkdirSync(OUT, { recursive: true });
    const load0 = os.loadavg().map(x => x.toFixed(2)).join(' ');
    const lab = await h.startLab('bench:' + N, P);
    const srv = await h.startServer(P.page);
    const c = h.startContacts(P.c2s);
    const seen = [];
    for (let i = 1; i <= N; i++) if ((i - 1) % 4 < 2) seen.push(name(i));   // both, to
    const online = seen.slice(0, Math.round(N * 0.3));
    const shows = [null, 'away', 'dnd', 'xa', 'chat'];
    await c.cmd({ op: 'online_many', users: online, shows }, 180000);
    const results = { plain: [], plugin: [] };
    const browsers = { plain: await h.launchBrowser(), plugin: await h.launchBrowser() };
    const cur = new Map(online.map((u, i) => [u, i % shows.length]));   // online_many gives shows[i % 5]
    try {
        const session = async (mode, measure) => {
            const s = await h.openPage(browsers[mode].ctx, PAGE, WS, mode === 'plugin');
            const truth = (await c.cmd({ op: 'truth' }, 60000)).truth;
            const t0 = Date.now();
            await h.login(s.page, 'alice@p.test', 'pw');
            const r = await h.waitEqual(s.page, truth, 120000, t0);
            const bytes = s.meter.bytes;
            const rep = mode === 'plugin' ? (await s.page.evaluate(() => window.synckeyReports.filter(x => x.mode !== 'checkpoint').slice(-1)[0])) : null;
            await logout(s.page);
            await s.page.close();
            if (r.ms === null) throw new Error(`${mode}: the panel never equalled the truth: ${r.diff.slice(0, 5).join('; ')}`);
            if (measure) results[mode].push({ bytes, ms: r.ms, sync: rep && rep.mode });
            console.error(`bench: ${mode} ${measure ? 'run' : 'warm-up'}: ${bytes} B, ${r.ms} ms${rep ? ', ' + rep.mode + ' changed=' + rep.changed : ''}`);
        };
        // warm-up: the first login of each fills its caches (a full sync for the plugin)
        await session('plain', false);
        await session('plugin', false);
        for (let run = 0; run < RUNS; run++) {
            // 1 % of N change status while both pages are closed
            const k = Math.round(N * 0.01);
            for (let j = 0; j < k; j++) {
                const u = online[(run * k + j) % online.length];
                cur.set(u, (cur.get(u) + 1) % shows.length);   // always a different show
                await c.cmd({ op: 'online', user: u, show: shows[cur.get(u)] || undefined });
            }
            for (const mode of run % 2 ? ['plugin', 'plain'] : ['plain', 'plugin']) await session(mode, true);
        }
    } finally {
        await browsers.plain.close();
        await browsers.plugin.close();
        await c.stop();
        await srv.stop();
        await lab.stop();
    }
    const load1 = os.loadavg().map(x => x.toFixed(2)).join(' ');
    const row = mode => {
        const b = results[mode].map(x => x.bytes), m = results[mode].map(x => x.ms);
        return { min_bytes: Math.min(...b), median_bytes: median(b), min_ms: Math.min(...m), median_ms: median(m), runs: results[mode].length };
    };
    const out = { n: N, online: Math.round(N * 0.3), changed: Math.round(N * 0.01), runs: RUNS, conditions: `${os.cpus().length} cores shared, load ${load0} -> ${load1}, Chromium headless (${h.CHROMIUM || '/usr/bin/chromium'}), converse.js 10.1.2, Prosody 0.12 + synckeyd (adapter), WebSocket on loopback`,
        plain: row('plain'), plugin: row('plugin'), raw: results };
    fs.writeFileSync(path.join(OUT, 'bench.json'), JSON.stringify(out, null, 1) + '\n');
    console.log(`| mode | bytes received (min / median) | ms until the roster is shown (min / median) | runs |`);
    console.log(`| --- | --- | --- | --- |`);
    for (const m of ['plain', 'plugin']) console.log(`| ${m === 'plain' ? 'plain converse.js' : 'converse.js + synckey'} | ${out[m].min_bytes} / ${out[m].median_bytes} | ${out[m].min_ms} / ${out[m].median_ms} | ${out[m].runs} |`);
    console.log(`ratio of median bytes: ${(100 * out.plugin.median_bytes / out.plain.median_bytes).toFixed(1)} %; conditions: ${out.conditions}`);
}
main().catch(e => { console.error('bench: ' + e.stack); h.stopAll(); process.exit(1); });
