import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hostLabel, isHostLabel } from '../../src/host-label.js';
import { SERVER_NAME, USER_NAME } from '../../src/names.js';

const validServer = (s: string) => SERVER_NAME.test(s) && !s.includes('..');
const validUser = (u: string) => USER_NAME.test(u) && !u.includes('..');

/** Names from a tiny alphabet heavy in separators, so "--", ".", "_" and clashes come up often. */
const tinyServer = fc
  .string({
    unit: fc.constantFrom('a', 'b', 'x', 'n', '1', '-', '.', '_'),
    minLength: 1,
    maxLength: 70,
  })
  .filter(validServer);
const tinyUser = fc
  .string({
    unit: fc.constantFrom('a', 'b', 'x', 'n', 'A', '1', '-', '.', '_'),
    minLength: 1,
    maxLength: 34,
  })
  .filter(validUser);
const anyServer = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,62}$/).filter(validServer),
  tinyServer,
);
const anyUser = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/).filter(validUser),
  tinyUser,
);
const pair = fc.record({ user: anyUser, server: anyServer });

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

describe('host labels: every server gets its own DNS-safe host name', () => {
  it('is a lower-case DNS label of at most 63 characters that never starts with xn-- (property)', () => {
    fc.assert(
      fc.property(pair, ({ user, server }) => {
        const label = hostLabel(user, server);
        assert.match(label, DNS_LABEL);
        assert.ok(!label.startsWith('xn--'), label);
        assert.ok(isHostLabel(label), label);
      }),
      { numRuns: 5000 },
    );
  });

  it('gives two different (user, server) pairs two different labels (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(pair, {
          minLength: 2,
          maxLength: 200,
          selector: (p) => `${p.user}\0${p.server}`,
        }),
        (pairs) => {
          const seen = new Map<string, string>();
          for (const p of pairs) {
            const label = hostLabel(p.user, p.server);
            const other = seen.get(label);
            assert.equal(other, undefined, `${p.user}/${p.server} and ${other} share ${label}`);
            seen.set(label, `${p.user}/${p.server}`);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads back as exactly its pair when it is in the plain form (property)', () => {
    fc.assert(
      fc.property(pair, ({ user, server }) => {
        const parts = hostLabel(user, server).split('--');
        if (parts.length === 2) assert.deepEqual(parts, [server, user]);
        else assert.equal(parts.length, 3, 'a hashed label has "--" exactly twice');
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps simple names readable: lab of alice is lab--alice', () => {
    assert.equal(hostLabel('alice', 'lab'), 'lab--alice');
    assert.equal(hostLabel('j-doe', 'r-studio'), 'r-studio--j-doe');
  });

  it('tells apart the pairs whose plain joins would be equal', () => {
    const a = hostLabel('c', 'a--b');
    const b = hostLabel('b--c', 'a');
    const c = hostLabel('b-c', 'a-');
    assert.notEqual(a, b);
    assert.notEqual(a, 'a--b--c');
    assert.notEqual(b, 'a--b--c');
    assert.match(c, DNS_LABEL);
  });

  it('hashes names a host name cannot carry: upper case, dots, underscores, too long', () => {
    for (const [user, server] of [
      ['Alice', 'lab'],
      ['j.doe', 'lab'],
      ['_svc', 'lab'],
      ['alice', 'x'.repeat(63)],
      ['alice', 'my.app'],
    ]) {
      const label = hostLabel(user!, server!);
      assert.equal(label.split('--').length, 3, label);
      assert.match(label, /--[a-z2-7]{16}$/);
    }
    assert.notEqual(hostLabel('Alice', 'lab'), hostLabel('alice', 'lab'));
  });

  it('never starts with xn--, which browsers would decode as punycode', () => {
    assert.ok(!hostLabel('alice', 'xn').startsWith('xn--'));
    assert.ok(!hostLabel('a.b', 'xn').startsWith('xn--'));
  });
});
