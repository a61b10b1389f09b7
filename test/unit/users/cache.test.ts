import assert from 'node:assert/strict';
import { ExpiringCache } from '../../../src/users/cache.js';

describe('the NSS answer cache', () => {
  it('returns an entry until its lifetime is over, then forgets it', () => {
    let now = 1000;
    const cache = new ExpiringCache<string>(100, 10, () => now);
    cache.set('a', 'x');
    now += 99;
    assert.equal(cache.get('a'), 'x');
    now += 1;
    assert.equal(cache.get('a'), undefined);
  });

  it('stays bounded: when full it drops expired entries, else the oldest', () => {
    let now = 0;
    const cache = new ExpiringCache<number>(100, 2, () => now);
    cache.set('a', 1);
    now = 50;
    cache.set('b', 2);
    now = 120;
    cache.set('c', 3);
    assert.equal(cache.get('b'), 2, 'only the expired entry made room');
    cache.set('d', 4);
    assert.equal(cache.get('b'), undefined, 'nothing expired, so the oldest made room');
    assert.equal(cache.get('c'), 3);
    assert.equal(cache.get('d'), 4);
  });
});
