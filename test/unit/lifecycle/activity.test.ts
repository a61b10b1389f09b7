import assert from 'node:assert/strict';
import pino from 'pino';
import { latest, recordActivity } from '../../../src/lifecycle/activity.js';
import type { ServerStore } from '../../../src/store/servers.js';

describe('recording a server’s activity', () => {
  /** A store that keeps one time per server and moves it forward only, as SQLite does. */
  function fakeStore(): Pick<ServerStore, 'touchActivity'> & { at: Map<number, string> } {
    const at = new Map<number, string>();
    return {
      at,
      touchActivity(id: number, time: string) {
        const before = at.get(id);
        if (before !== undefined && before >= time) return false;
        at.set(id, time);
        return true;
      },
    };
  }

  it('tells JupyterHub only when the time moved forward', async () => {
    const store = fakeStore();
    const sent: string[] = [];
    const deps = {
      store: store as unknown as ServerStore,
      log: pino({ level: 'silent' }),
      activitySink: async (user: string, at: string) => void sent.push(`${user} ${at}`),
    };
    const row = { id: 1, user: 'alice' as never };
    assert.equal(recordActivity(deps, row, '2026-01-01T10:00:00.000Z'), true);
    assert.equal(recordActivity(deps, row, '2026-01-01T09:00:00.000Z'), false);
    assert.equal(recordActivity(deps, row, '2026-01-01T10:00:00.000Z'), false);
    assert.deepEqual(sent, ['alice 2026-01-01T10:00:00.000Z']);
  });

  it('takes the later of two times, either of which may be missing', () => {
    assert.equal(latest(null, null), null);
    assert.equal(latest('2026-01-01T10:00:00.000Z', null), '2026-01-01T10:00:00.000Z');
    assert.equal(latest(null, '2026-01-01T10:00:00.000Z'), '2026-01-01T10:00:00.000Z');
    assert.equal(
      latest('2026-01-01T10:00:00.000Z', '2026-01-01T11:00:00+02:00'),
      '2026-01-01T10:00:00.000Z',
    );
  });
});
