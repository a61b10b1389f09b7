import assert from 'node:assert/strict';
import { refusePort } from '../../../../src/proxy/ports/policy.js';
import type { PortPolicy } from '../../../../src/protocol/wire.js';

const POLICY: PortPolicy = {
  ranges: [
    [1024, 9000],
    [9100, 9100],
  ],
  hostPorts: false,
  cors: [],
};
const OWN = { proxy: 50001, app: 50002 };

describe("the admin's port policy in the proxy", () => {
  it('lets a port inside the ranges through', () => {
    assert.equal(refusePort(8787, 'server', POLICY, OWN), null);
    assert.equal(refusePort(9100, 'server', POLICY, OWN), null);
  });

  it('refuses a port outside the ranges with 403 naming user_ports.ranges', () => {
    const r = refusePort(22, 'server', POLICY, OWN);
    assert.equal(r?.status, 403);
    assert.match(r!.message, /port 22 is not in user_ports\.ranges \(1024-9000, 9100\)/);
  });

  it('refuses port 0 and numbers past 65535 as not a port', () => {
    for (const port of [0, 65536, 700000]) {
      const r = refusePort(port, 'server', POLICY, OWN);
      assert.equal(r?.status, 400);
      assert.match(r!.message, /not a port number/);
    }
  });

  it("refuses the proxy's own and the app's own port even inside the ranges", () => {
    const wide: PortPolicy = { ...POLICY, ranges: [[1, 65535]] };
    assert.match(refusePort(50001, 'server', wide, OWN)!.message, /own proxy port/);
    assert.match(
      refusePort(50002, 'host', { ...wide, hostPorts: true }, OWN)!.message,
      /own app port/,
    );
  });

  it('refuses host ports unless user_ports.host_ports is on', () => {
    const r = refusePort(8787, 'host', POLICY, OWN);
    assert.equal(r?.status, 403);
    assert.match(r!.message, /user_ports\.host_ports is off/);
    assert.equal(refusePort(8787, 'host', { ...POLICY, hostPorts: true }, OWN), null);
  });
});
