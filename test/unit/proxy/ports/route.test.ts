import assert from 'node:assert/strict';
import { portFromHost, portFromPath, serverIdentity } from '../../../../src/proxy/ports/route.js';
import { portLabel } from '../../../../src/port-label.js';

const PREFIX = '/apps/alice/term/';

describe('the address of a user port in the path layout', () => {
  it('ports/PORT/… is a port of the server, prefix stripped', () => {
    assert.deepEqual(portFromPath('/apps/alice/term/ports/8787/a/b?x=1', PREFIX), {
      port: 8787,
      kind: 'server',
      prefix: '/apps/alice/term/ports/8787/',
      stripPrefix: true,
    });
  });

  it('ports/absolute/PORT/… keeps the full path', () => {
    assert.deepEqual(portFromPath('/apps/alice/term/ports/absolute/6006/', PREFIX), {
      port: 6006,
      kind: 'server',
      prefix: '/apps/alice/term/ports/absolute/6006/',
      stripPrefix: false,
    });
  });

  it('host-ports/PORT/… and host-ports/absolute/PORT/… are ports of the host', () => {
    const plain = portFromPath('/apps/alice/term/host-ports/5000/', PREFIX);
    assert.ok(plain && 'kind' in plain);
    assert.equal(plain.kind, 'host');
    assert.equal(plain.prefix, '/apps/alice/term/host-ports/5000/');
    const kept = portFromPath('/apps/alice/term/host-ports/absolute/5000/x', PREFIX);
    assert.ok(kept && 'kind' in kept);
    assert.equal(kept.stripPrefix, false);
    assert.equal(kept.kind, 'host');
  });

  it('ports/PORT without the slash redirects to the slash form, query kept', () => {
    assert.deepEqual(portFromPath('/apps/alice/term/ports/8787', PREFIX), {
      redirect: '/apps/alice/term/ports/8787/',
    });
    assert.deepEqual(portFromPath('/apps/alice/term/ports/absolute/8787?a=1', PREFIX), {
      redirect: '/apps/alice/term/ports/absolute/8787/?a=1',
    });
  });

  it('passes port 0 and out-of-range numbers on, for the policy to refuse with a message', () => {
    const zero = portFromPath('/apps/alice/term/ports/0/', PREFIX);
    assert.ok(zero && 'port' in zero);
    assert.equal(zero.port, 0);
    const big = portFromPath('/apps/alice/term/ports/700000/', PREFIX);
    assert.ok(big && 'port' in big);
    assert.equal(big.port, 700000);
  });

  it('leaves everything else to the app: other paths, non-numbers, another prefix', () => {
    for (const url of [
      '/apps/alice/term/',
      '/apps/alice/term/portsx/1/',
      '/apps/alice/term/ports/abc/',
      '/apps/alice/term/ports/',
      '/apps/alice/term/ports/12a/',
      '/apps/alice/termx/ports/8787/',
      '/apps/bob/term/ports/8787/',
    ])
      assert.equal(portFromPath(url, PREFIX), null, url);
  });
});

describe('the host of a user port on per-server origins', () => {
  const me = serverIdentity('alice', 'term', 'https://term--alice.apps.example.org');

  it('recognises its own label for both kinds, in any letter case', () => {
    const host = `${portLabel('alice', 'term', 8787, 'server')}.apps.example.org`;
    assert.deepEqual(portFromHost(host.toUpperCase(), me), {
      port: 8787,
      kind: 'server',
      prefix: '/',
      stripPrefix: false,
      origin: `https://${host}`,
    });
    const h = portFromHost(`${portLabel('alice', 'term', 22, 'host')}.apps.example.org`, me);
    assert.equal(h?.kind, 'host');
    assert.equal(h?.port, 22);
  });

  it("keeps the origin's port", () => {
    const withPort = serverIdentity('alice', 'term', 'http://term--alice.apps.localhost:8042');
    const label = portLabel('alice', 'term', 8787, 'server');
    assert.equal(portFromHost(`${label}.apps.localhost:8042`, withPort)?.port, 8787);
    assert.equal(portFromHost(`${label}.apps.localhost`, withPort), null);
    assert.equal(portFromHost(`${label}.apps.localhost:8043`, withPort), null);
  });

  it("refuses another server's or user's label, another domain and the server's own host", () => {
    for (const host of [
      `${portLabel('bob', 'term', 8787, 'server')}.apps.example.org`,
      `${portLabel('alice', 'lab', 8787, 'server')}.apps.example.org`,
      `${portLabel('alice', 'term', 8787, 'server')}.apps.example.org.evil.test`,
      `${portLabel('alice', 'term', 8787, 'server')}.evil.test`,
      `x.${portLabel('alice', 'term', 8787, 'server')}.apps.example.org`,
      'term--alice.apps.example.org',
      '8787--p--term--alice--extra.apps.example.org',
    ])
      assert.equal(portFromHost(host, me), null, host);
    assert.equal(portFromHost(undefined, me), null);
  });

  it('accepts the hashed label of names that do not fit the plain form', () => {
    const long = { owner: 'a'.repeat(30), server: 's'.repeat(30) };
    const label = portLabel(long.owner, long.server, 8080, 'server');
    const found = portFromHost(
      `${label}.apps.example.org`,
      serverIdentity(long.owner, long.server, 'https://x.apps.example.org'),
    );
    assert.equal(found?.port, 8080);
  });
});
