#!/usr/bin/env node
// unit.js - the digest and the client rules of synckey-core.js against the
// examples of xep/synckey.xml (rendered: sections 7.1, 7.2, 7.3, 7.5, 7.6, 9); no browser, no server.  TAP.
'use strict';
const path = require('path');
const { DOMParser } = require('@xmldom/xmldom');
const core = require(path.join(__dirname, '..', 'src', 'synckey-core.js'));

let n = 0, bad = 0;
function ok (cond, what, diag) {
    n++;
    if (cond) console.log(`ok ${n} - ${what}`);
    else { bad++; console.log(`not ok ${n} - ${what}`); if (diag !== undefined) console.log('# ' + String(diag).replace(/\n/g, '\n# ')); }
}
const parse = xml => new DOMParser().parseFromString(xml, 'text/xml').documentElement;
const syncOf = iq => [...Array.from(iq.childNodes)].find(c => c.nodeType === 1);
const part = (xml, first = true) => core.readPart(syncOf(parse(xml)), first);

// xep 7.1: first sync, full answer
const S1 = `<iq xmlns='jabber:client' type='result' from='sync.example.org' to='alice@example.org/laptop' id='s1'>
  <sync xmlns='urn:xmpp:synckey:0' type='full' reason='no-key'
        key='AQAAAAIbTfWrxAUI3wAAAAAAAAAHAAAAAGsGroCzo2oGIDn0Q4KvpZYs_Stx'
        digest='UwK5/rCJiu2rDazufMFJNoIaPXLgwQe2mVzFlXVjlbY='>
    <query xmlns='jabber:iq:roster'>
      <item jid='ann@example.org' name='Annie' subscription='both'/>
      <item jid='bob@example.net' subscription='both'><group>Friends</group></item>
      <item jid='cid@example.org' subscription='to'/>
      <item jid='dan@example.org' subscription='to'/>
    </query>
    <presence xmlns='jabber:client' from='ann@example.org/phone'><priority>5</priority></presence>
    <presence xmlns='jabber:client' from='cid@example.org/desk'><show>dnd</show><status>In a meeting</status></presence>
    <presence xmlns='jabber:client' from='cid@example.org/tab'/>
    <presence xmlns='jabber:client' from='dan@example.org/home'/>
  </sync>
</iq>`;
// xep 7.2: delta
const S2 = `<iq xmlns='jabber:client' type='result' id='s2'>
  <sync xmlns='urn:xmpp:synckey:0' type='delta'
        key='AQAAAAIbTfWrxAUI3wAAAAAAAAAIAAAAAGsIDhAwZhLsB06nz_juc6oRb8X9'
        digest='ESNl4XXfG3tqhePYSeOjOPwaMweb+Wjz2bOXNrUnp6o='>
    <query xmlns='jabber:iq:roster'>
      <item jid='ann@example.org' name='Ann' subscription='both'><group>Work</group></item>
      <item jid='bob@example.net' subscription='remove'/>
    </query>
    <presence xmlns='jabber:client' from='ann@example.org/phone'><show>away</show><priority>5</priority></presence>
    <presence xmlns='jabber:client' from='cid@example.org/tab' type='unavailable'/>
    <presence xmlns='jabber:client' from='dan@example.org' type='unavailable'/>
  </sync>
</iq>`;
// xep 7.3: null answer
const S3 = `<iq xmlns='jabber:client' type='result' id='s3'><sync xmlns='urn:xmpp:synckey:0' type='delta'
        key='AQAAAAIbTfWrxAUI3wAAAAAAAAAJAAAAAGsIDnRk4DBW-SFFznSh6nhvy6lK'
        digest='ESNl4XXfG3tqhePYSeOjOPwaMweb+Wjz2bOXNrUnp6o='/></iq>`;
// xep 7.6: three parts
const P1 = `<iq xmlns='jabber:client' type='result' id='s6'><sync xmlns='urn:xmpp:synckey:0' type='full' reason='reset'
        key='AQAAAANeEcD_7gAAAQAAAAAAAAAMAAAAAGsJlLCR2hIvEiF_dOtIDig2iPz8'
        digest='ESNl4XXfG3tqhePYSeOjOPwaMweb+Wjz2bOXNrUnp6o=' more='O9FBiX2Zh5mut4q9EjdEIT'>
    <query xmlns='jabber:iq:roster'>
      <item jid='ann@example.org' name='Ann' subscription='both'><group>Work</group></item>
      <item jid='cid@example.org' subscription='to'/>
    </query></sync></iq>`;
const P2 = `<iq xmlns='jabber:client' type='result' id='s7'><sync xmlns='urn:xmpp:synckey:0' type='more' more='2-UY14u0arp-KSM-1hE_O2'>
    <query xmlns='jabber:iq:roster'><item jid='dan@example.org' subscription='to'/></query>
    <presence xmlns='jabber:client' from='ann@example.org/phone'><show>away</show><priority>5</priority></presence>
  </sync></iq>`;
const P3 = `<iq xmlns='jabber:client' type='result' id='s8'><sync xmlns='urn:xmpp:synckey:0' type='more'>
    <presence xmlns='jabber:client' from='cid@example.org/desk'><show>dnd</show><status>In a meeting</status></presence>
  </sync></iq>`;

async function main () {
    const empty = core.newState();
    ok(await core.digest(empty) === '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', 'digest of the empty state (9.1)');

    const a1 = part(S1);
    const r1 = core.applyAnswer(empty, [a1]);
    const d1 = await core.digest(r1.state);
    ok(a1.type === 'full' && a1.reason === 'no-key', 'full answer read: type and reason (7.1)');
    ok(d1 === a1.digest, 'digest of the full answer of 7.1 matches', d1);
    ok(r1.state.items.size === 4 && r1.state.pres.size === 4, 'full answer: 4 items, 4 presences');

    const a2 = part(S2);
    const r2 = core.applyAnswer(r1.state, [a2]);
    const d2 = await core.digest(r2.state);
    ok(d2 === a2.digest, 'digest after the delta of 7.2 matches', d2);
    ok(!r2.state.items.has('bob@example.net'), 'delta: the removed item is gone');
    ok(r2.state.pres.get('ann@example.org/phone').show === 'away' && r2.state.items.get('ann@example.org').name === 'Ann', 'delta: ann renamed and away');
    ok(!r2.state.pres.has('dan@example.org/home'), 'delta: a bare unavailable removes every resource');
    ok(r2.state.pres.has('cid@example.org/desk') && !r2.state.pres.has('cid@example.org/tab'), 'delta: a full unavailable removes one resource');
    ok([...r2.changed].sort().join(' ') === 'ann@example.org bob@example.net cid@example.org dan@example.org', 'delta: the changed contacts', [...r2.changed]);
    ok(r1.state.items.has('bob@example.net'), 'applying a delta leaves the old state untouched');

    const a3 = part(S3);
    const r3 = core.applyAnswer(r2.state, [a3]);
    ok(await core.digest(r3.state) === a3.digest && r3.changed.size === 0, 'null answer (7.3): state and digest unchanged');

    // the delta with one thing left out, or a removal ignored: the digest must differ
    const drop = core.applyAnswer(r1.state, [part(S2.replace(/<presence[^>]*from='ann@example.org\/phone'>.*?<\/presence>/, ''))]);
    ok(await core.digest(drop.state) !== a2.digest, 'a delta with a presence dropped does not match the digest');
    const noremove = core.applyAnswer(r1.state, [part(S2.replace("<item jid='bob@example.net' subscription='remove'/>", ''))]);
    ok(await core.digest(noremove.state) !== a2.digest, 'a delta with its removal ignored does not match the digest');

    // 7.6: three parts give the state of 7.5
    const parts = [part(P1), part(P2, false), part(P3, false)];
    ok(parts[0].more === 'O9FBiX2Zh5mut4q9EjdEIT' && parts[1].more === '2-UY14u0arp-KSM-1hE_O2' && parts[2].more === null, 'paged answer: tokens read, the last part has none');
    const r6 = core.applyAnswer(r1.state, parts);
    ok(await core.digest(r6.state) === parts[0].digest, 'paged full answer of 7.6: digest of all parts matches');
    ok(await core.digest(core.applyAnswer(r1.state, parts.slice(0, 2)).state) !== parts[0].digest, 'paged answer missing its last part does not match');

    // 9.2 priority, byte-exact
    const pr = { ' 7 ': 7, '+5': 5, '007': 7, '5x': 5, '200': 127, '-300': -128, 'high': 0, '': 0, '-0': 0, '\t-12': -12, '99999999999999999999': 127 };
    ok(Object.entries(pr).every(([t, v]) => core.parsePriority(t) === v), 'priority read as strtol, clamped (9.2)',
        JSON.stringify(Object.entries(pr).map(([t]) => [t, core.parsePriority(t)])));
    // 9.2 status: first without xml:lang; show verbatim; groups set, bytewise; absent subscription is none
    const p = core.readPresence(parse(`<presence xmlns='jabber:client' from='a@b/c' xml:lang='de'><show> away </show><status xml:lang='en'>en</status><status>plain</status></presence>`));
    ok(p.status === 'plain' && p.show === ' away ', 'status: the first without its own xml:lang; show taken verbatim');
    const p2 = core.readPresence(parse(`<presence xmlns='jabber:client' from='a@b/c'><status xml:lang='en'>en</status><status xml:lang='fr'>fr</status></presence>`));
    ok(p2.status === 'en', 'status: every status has xml:lang: the first');
    const it = core.readItem(parse(`<item xmlns='jabber:iq:roster' jid='x@y' ask='subscribed'><group>b</group><group>\u{1F600}</group><group>\uE000</group><group>b</group><group/></item>`));
    ok(it.sub === 'none' && it.ask === '' && it.name === '' && JSON.stringify(it.groups) === JSON.stringify(['', 'b', '\uE000', '\u{1F600}']),
        'item: no subscription is none, ask only subscribe, groups a set in UTF-8 byte order', JSON.stringify(it));
    const crlf = core.readPresence(parse(`<presence xmlns='jabber:client' from='a@b/c'><status>x\r\ny&#13;z</status></presence>`));
    ok(crlf.status === 'x\ny\rz', 'status: line ends as the parser reports them, a character reference kept', JSON.stringify(crlf.status));

    // malformed answers are refused with a reason
    const bad1 = S3.replace("type='delta'", "type='weird'");
    const bad2 = S3.replace(/digest='[^']*'/, '');
    const bad3 = S3.replace(/key='[^']*'/, "key='has space'");
    const refused = [bad1, bad2, bad3].map(x => { try { part(x); return null; } catch (e) { return e instanceof core.SyncError ? e.reason : String(e); } });
    ok(refused.every(r => typeof r === 'string' && r.length > 0), 'unknown type, missing digest, malformed key: refused with a reason', JSON.stringify(refused));
    let laterType;
    try { core.readPart(syncOf(parse(S3)), false); } catch (e) { laterType = e.reason; }
    ok(/expected more/.test(laterType || ''), 'a later part that is not type more is refused');

    // an item the component never sends makes the whole answer malformed
    for (const [bad, why] of [["<item subscription='both'/>", /without jid/],
                              ["<item jid='zed@example.org' subscription='bogus'/>", /unknown subscription/]]) {
        let reason;
        try {
            core.applyAnswer(r1.state, [part(S2.replace("<item jid='bob@example.net' subscription='remove'/>", bad))]);
        } catch (e) { reason = e.reason; }
        ok(why.test(reason || ''), 'a delta with ' + bad + ' is refused whole');
    }

    // live updates keep the state a fresh session would hold
    const live = core.cloneState(r2.state);
    core.applyLivePresence(live, parse(`<presence xmlns='jabber:client' from='dan@example.org/home'/>`), 'alice@example.org');
    core.applyLivePresence(live, parse(`<presence xmlns='jabber:client' from='alice@example.org/phone'/>`), 'alice@example.org');
    core.applyLivePresence(live, parse(`<presence xmlns='jabber:client' from='eve@example.org/x'/>`), 'alice@example.org');
    ok(live.pres.has('dan@example.org/home') && !live.pres.has('alice@example.org/phone') && !live.pres.has('eve@example.org/x'),
        'live presence: a contact counts, own resources and strangers do not');
    core.applyPush(live, parse(`<item xmlns='jabber:iq:roster' jid='dan@example.org' subscription='from'/>`));
    ok(!live.pres.has('dan@example.org/home'), 'roster push to subscription from drops the contact\'s presence');

    // cache round trip
    const back = core.fromJSON(JSON.parse(JSON.stringify(core.toJSON(r2.state))));
    ok(await core.digest(back) === a2.digest, 'cached state (JSON) keeps the digest');

    console.log(`1..${n}`);
    process.exit(bad ? 1 : 0);
}
main().catch(e => { console.log('not ok - unit tests crashed: ' + e.stack.replace(/\n/g, '\n# ')); process.exit(1); });
