import assert from 'node:assert/strict';
import { PortForwarders } from '../../../../src/proxy/ports/forwarders.js';
import type { PortRoute } from '../../../../src/proxy/ports/route.js';

const route = (port: number, stripPrefix = true): PortRoute => ({
  port,
  kind: 'server',
  prefix: `/apps/a/s/ports/${stripPrefix ? '' : 'absolute/'}${port}/`,
  stripPrefix,
});

function fake() {
  const closed: number[] = [];
  let made = 0;
  const make = (port: number) => () => {
    made++;
    return { web: () => undefined, ws: () => undefined, close: () => closed.push(port) };
  };
  return { closed, made: () => made, make };
}

describe("the proxy's forwarders to user ports", () => {
  it('makes one per port address and reuses it', () => {
    const f = fake();
    const fwds = new PortForwarders(4);
    const a = fwds.get(route(8787), f.make(8787));
    assert.equal(fwds.get(route(8787), f.make(8787)), a);
    fwds.get(route(8787, false), f.make(8787));
    assert.equal(f.made(), 2, 'the stripped and the absolute form are two addresses');
  });

  it('closes the least recently used one past the bound', () => {
    const f = fake();
    const fwds = new PortForwarders(3);
    for (const p of [1001, 1002, 1003]) fwds.get(route(p), f.make(p));
    fwds.get(route(1001), f.make(1001));
    fwds.get(route(1004), f.make(1004));
    assert.deepEqual(f.closed, [1002]);
    assert.equal(fwds.size, 3);
    fwds.close();
    assert.deepEqual(f.closed.sort(), [1001, 1002, 1003, 1004]);
  });
});
