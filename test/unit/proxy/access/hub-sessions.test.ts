import assert from 'node:assert/strict';
import { HubSessions } from '../../../../src/proxy/access/hub-sessions.js';

describe("a hub server proxy's session table", () => {
  it("keeps alice's session while a visitor signs in 1,000 times, evicting only the visitor's own oldest", () => {
    const table = new HubSessions();
    const evicted: string[] = [];
    const evict = (value: string) => {
      evicted.push(value);
      table.forget(value);
    };
    const alice = table.add('alice', 'alice-token', evict);
    const carols = Array.from({ length: 1000 }, () => table.add('carol', 'carol-token', evict));
    assert.equal(table.get(alice)?.user, 'alice');
    assert.equal(evicted.length, 1000 - 20);
    assert.deepEqual(evicted, carols.slice(0, 980));
    for (const value of carols.slice(980)) assert.equal(table.get(value)?.token, 'carol-token');
  });

  it('forgets a session and says whose it was', () => {
    const table = new HubSessions();
    const value = table.add('alice', 't', () => undefined);
    assert.equal(table.forget(value), 'alice');
    assert.equal(table.get(value), undefined);
    assert.equal(table.forget(value), undefined);
  });
});
