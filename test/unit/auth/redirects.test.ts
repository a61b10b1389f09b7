import assert from 'node:assert/strict';
import fc from 'fast-check';
import { safeNext } from '../../../src/auth/redirects.js';

describe('auth: next= targets never leave this host', () => {
  const fallback = '/services/hubapps/';
  for (const ok of [
    '/services/hubapps/',
    '/apps/alice/lab/tree?x=1#y',
    '/apps/alice/lab/%20file',
  ]) {
    it(`keeps ${ok}`, () => assert.equal(safeNext(ok, fallback), ok));
  }
  for (const bad of [
    'https://elsewhere.example/',
    '//elsewhere.example/',
    '/\\elsewhere.example',
    '\\\\evil',
    'javascript:alert(1)',
    '/%2F/evil.example',
    '/apps/alice/x/../../bob/y/',
    '/a/%2e%2e/b',
    '',
    'relative/path',
    '/x\r\nSet-Cookie: a=b',
    42,
    undefined,
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(safeNext(bad, fallback), fallback));
  }
  it('keeps a target inside a required prefix only', () => {
    assert.equal(
      safeNext('/apps/alice/lab/x', '/apps/alice/lab/', '/apps/alice/lab/'),
      '/apps/alice/lab/x',
    );
    assert.equal(
      safeNext('/apps/bob/lab/x', '/apps/alice/lab/', '/apps/alice/lab/'),
      '/apps/alice/lab/',
    );
  });
  it('never returns anything a browser would read as another host (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = safeNext(s, fallback);
        const url = new URL(out, 'https://hub.example.org');
        return url.origin === 'https://hub.example.org';
      }),
      { numRuns: 5000 },
    );
  });
});
