import assert from 'node:assert/strict';
import {
  allowElement,
  checkPort,
  checkUid,
  guardTable,
  parseEntry,
  replaceTable,
  revokeElement,
} from '../../../src/limits/port-guard-rules.js';

const RANGE = { min: 20000, max: 29999 };

describe('port guard: the nftables rules', () => {
  it('sends only the opening SYN of a loopback connection into port_range through the guard, and drops the range from other hosts', () => {
    const text = guardTable('hubapps', RANGE);
    assert.match(text, /^table inet hubapps \{/);
    assert.match(
      text,
      /oifname "lo" tcp dport 20000-29999 tcp flags & \(syn \| ack\) == syn jump guard/,
    );
    assert.match(text, /iifname != "lo" tcp dport 20000-29999 drop/);
    // Order matters: the owner's pair and open ports are accepted before the reset.
    const guard = text.slice(text.indexOf('chain guard'));
    assert.ok(guard.indexOf('@open accept') < guard.indexOf('reject with tcp reset'));
    assert.ok(guard.indexOf('meta skuid @owners accept') < guard.indexOf('reject with tcp reset'));
    assert.doesNotMatch(
      text,
      /elements/,
      'an empty set has no elements clause (nft refuses "{ }")',
    );
  });

  it('writes owner pairs and open ports as set elements', () => {
    const text = guardTable('t', RANGE, [
      { port: 20001, uid: 1001 },
      { port: 20002, uid: null },
      { port: 20002, uid: null },
    ]);
    assert.match(
      text,
      /set owners \{ type inet_service \. uid; elements = \{ 20001 \. 1001 \}; \}/,
    );
    assert.match(text, /set open \{ type inet_service; elements = \{ 20002 \}; \}/);
  });

  it('replaces the table in one transaction that cannot fail on a missing table', () => {
    const text = replaceTable('t', RANGE, []);
    assert.deepEqual(text.split('\n').slice(0, 3), [
      'table inet t {}',
      'delete table inet t',
      'table inet t {',
    ]);
  });

  it('revokes by adding then deleting the pair, so a pair that is not there is no error', () => {
    assert.equal(
      allowElement('t', { port: 20001, uid: 5 }),
      'add element inet t owners { 20001 . 5 }\n',
    );
    assert.deepEqual(revokeElement('t', { port: 20001, uid: 5 }).trim().split('\n'), [
      'add element inet t owners { 20001 . 5 }',
      'delete element inet t owners { 20001 . 5 }',
    ]);
  });

  it('takes only ports inside port_range and plain uids', () => {
    assert.equal(checkPort('20000', RANGE), 20000);
    for (const bad of ['19999', '30000', '2e4', '-1', '20000 ', ''])
      assert.throws(() => checkPort(bad, RANGE), /not in port_range 20000-29999/, bad);
    assert.equal(checkUid('0'), 0);
    for (const bad of ['-1', '1.5', 'root', '4294967295', '99999999999'])
      assert.throws(() => checkUid(bad), /is not a uid/, bad);
    assert.deepEqual(parseEntry('20010:open', RANGE), { port: 20010, uid: null });
    assert.deepEqual(parseEntry('20010:1001', RANGE), { port: 20010, uid: 1001 });
    for (const bad of ['20010', '20010:', ':1001', '20010:1001:1', '20010;flush ruleset'])
      assert.throws(() => parseEntry(bad, RANGE), /PORT:UID or PORT:open/, bad);
  });
});
