import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hostLabel, isHostLabel } from '../../src/host-label.js';
import { parsePortLabel, portLabel, type PortKind } from '../../src/port-label.js';
import { SERVER_NAME, USER_NAME } from '../../src/names.js';

const validServer = (s: string) => SERVER_NAME.test(s) && !s.includes('..');
const validUser = (u: string) => USER_NAME.test(u) && !u.includes('..');
const tiny = (extra: string[]) =>
  fc.string({ unit: fc.constantFrom('a', 'b', 'p', 'h', '8', '-', '.', ...extra), maxLength: 40 });
const anyServer = fc
  .oneof(
    fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,62}$/),
    tiny([]).map((s) => `a${s}`),
  )
  .filter(validServer);
const anyUser = fc
  .oneof(
    fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/),
    tiny(['A', '_']).map((s) => `b${s}`),
  )
  .filter(validUser);
const anyPort = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(1, 80, 8787, 65535));
const anyKind = fc.constantFrom<PortKind>('server', 'host');
const target = fc.record({ user: anyUser, server: anyServer, port: anyPort, kind: anyKind });

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

describe("port labels: each user's port gets its own DNS-safe host name", () => {
  it('is a DNS label of at most 63 characters that reads back as its port and kind (property)', () => {
    fc.assert(
      fc.property(target, ({ user, server, port, kind }) => {
        const label = portLabel(user, server, port, kind);
        assert.match(label, DNS_LABEL);
        assert.ok(isHostLabel(label), label);
        assert.deepEqual(parsePortLabel(label), { port, kind });
      }),
      { numRuns: 5000 },
    );
  });

  it('never equals a server label, and a server label never parses as a port (property)', () => {
    fc.assert(
      fc.property(target, anyUser, anyServer, (t, user, server) => {
        const own = hostLabel(user, server);
        assert.equal(parsePortLabel(own), null, own);
        assert.notEqual(portLabel(t.user, t.server, t.port, t.kind), own);
      }),
      { numRuns: 5000 },
    );
  });

  it('gives different (user, server, port, kind) different labels (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(target, {
          minLength: 2,
          maxLength: 200,
          selector: (t) => `${t.user}\0${t.server}\0${t.port}\0${t.kind}`,
        }),
        (targets) => {
          const seen = new Map<string, string>();
          for (const t of targets) {
            const label = portLabel(t.user, t.server, t.port, t.kind);
            const key = `${t.user}/${t.server}:${t.port}/${t.kind}`;
            assert.equal(
              seen.get(label),
              undefined,
              `${key} and ${seen.get(label)} share ${label}`,
            );
            seen.set(label, key);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps simple names readable, and tells a server named 8787-p from a port', () => {
    assert.equal(portLabel('alice', 'term', 6006, 'server'), '6006--p--term--alice');
    assert.equal(portLabel('alice', 'term', 5000, 'host'), '5000--h--term--alice');
    assert.equal(hostLabel('alice', '8787-p'), '8787-p--alice');
    assert.equal(parsePortLabel('8787-p--alice'), null);
    assert.equal(parsePortLabel(hostLabel('Alice', 'lab')), null);
  });

  it('hashes names a host name cannot carry, keeping the digest of the exact pair', () => {
    const label = portLabel('J.Doe', 'my.lab', 8080, 'server');
    assert.equal(label.split('--').length, 5, label);
    assert.match(label, /^8080--p--my-lab--j-doe--[a-z2-7]{16}$/);
    assert.notEqual(label, portLabel('j.doe', 'my.lab', 8080, 'server'));
    assert.equal(portLabel('alice', 'x'.repeat(60), 1, 'host').length <= 63, true);
  });

  it('refuses what is not a canonical port', () => {
    for (const label of ['0--p--a--b', '65536--p--a--b', '080--p--a--b', '80--x--a--b', '80--p--a'])
      assert.equal(parsePortLabel(label), null, label);
    assert.throws(() => portLabel('alice', 'lab', 0, 'server'), RangeError);
    assert.throws(() => portLabel('alice', 'lab', 70000, 'server'), RangeError);
  });
});
