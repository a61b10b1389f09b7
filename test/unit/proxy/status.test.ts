import assert from 'node:assert/strict';
import { Activity } from '../../../src/proxy/http/activity.js';
import { ProxyStatus } from '../../../src/proxy/status.js';

/** Resolves to how the wait ended: 'news' before `ms`, else 'timer'. */
async function race(p: Promise<void>, ms: number): Promise<'news' | 'timer'> {
  let timer: NodeJS.Timeout | undefined;
  const out = await Promise.race([
    p.then(() => 'news' as const),
    new Promise<'timer'>((r) => (timer = setTimeout(() => r('timer'), ms))),
  ]);
  clearTimeout(timer);
  return out;
}

describe('ProxyStatus: a health call that waits for news', () => {
  const status = () => {
    const s = new ProxyStatus(7, new Activity());
    s.progress('starting the app');
    return s;
  };

  it('answers at once when there is progress the reader has not seen', async () => {
    assert.equal(await race(status().changed(0, 1000), 50), 'news');
  });

  it('answers at once without a wait, and once the app is past starting', async () => {
    const s = status();
    assert.equal(await race(s.changed(1, 0), 50), 'news');
    s.state = 'ready';
    assert.equal(await race(s.changed(1, 1000), 50), 'news');
  });

  it('holds a reader who has seen everything until the next progress message', async () => {
    const s = status();
    const waiting = s.changed(1, 5000);
    assert.equal(await race(waiting, 50), 'timer', 'nothing new yet');
    s.progress('still waiting for port 8000');
    assert.equal(await race(waiting, 50), 'news');
    assert.deepEqual(
      s.report(1).progress.map((p) => p.message),
      ['still waiting for port 8000'],
    );
  });

  it('wakes every waiting reader on a state change without progress (exited)', async () => {
    const s = status();
    const a = s.changed(1, 5000);
    const b = s.changed(1, 5000);
    s.state = 'exited';
    assert.equal(await race(a, 50), 'news');
    assert.equal(await race(b, 50), 'news');
  });

  it('gives up after its limit when nothing happens', async () => {
    assert.equal(await race(status().changed(1, 30), 1000), 'news');
  });
});
