import assert from 'node:assert/strict';
import { takeCookie } from '../../../../src/proxy/access/gate.js';
import { PrefixRewriter } from '../../../../src/proxy/http/rewrite.js';
import { checkPath, takeTokenParam } from '../../../../src/proxy/http/url-path.js';

describe('request path checks', () => {
  it("finds '..' segments, plain or percent-encoded, and bad encodings", () => {
    assert.equal(checkPath('/apps/a/b/x/y?z=..'), 'ok');
    assert.equal(checkPath('/apps/a/b/../c'), 'dotdot');
    assert.equal(checkPath('/apps/a/b/%2e%2E/c'), 'dotdot');
    assert.equal(checkPath('/apps/a/b/..%5cc'), 'dotdot');
    assert.equal(checkPath('/apps/a/b/..'), 'dotdot');
    assert.equal(checkPath('/apps/a/b/a..b/...'), 'ok');
    assert.equal(checkPath('/apps/a/b/%zz'), 'bad-encoding');
  });

  it('takes the token parameter out and keeps the others byte for byte', () => {
    assert.deepEqual(takeTokenParam('/p?a=%20x&token=abc&b=c+d'), {
      url: '/p?a=%20x&b=c+d',
      token: 'abc',
    });
    assert.deepEqual(takeTokenParam('/p?token=abc'), { url: '/p', token: 'abc' });
    assert.deepEqual(takeTokenParam('/p?mytoken=abc'), { url: '/p?mytoken=abc', token: null });
    assert.deepEqual(takeTokenParam('/p'), { url: '/p', token: null });
  });

  it("splits the proxy's cookie out of a Cookie header", () => {
    assert.deepEqual(takeCookie('a=1; hubapps-proxy-3=s; b=2', 'hubapps-proxy-3'), {
      value: 's',
      rest: 'a=1; b=2',
    });
    assert.deepEqual(takeCookie('hubapps-proxy-31=t', 'hubapps-proxy-3'), {
      value: null,
      rest: 'hubapps-proxy-31=t',
    });
  });
});

describe('prefix rewrites for stripped apps', () => {
  const rw = new PrefixRewriter('/apps/alice/rs/', new Set(['127.0.0.1:5000', 'hub.example.org']));

  it('moves root-relative and own-host Locations under the prefix', () => {
    assert.equal(rw.location('/login?next=%2F', undefined), '/apps/alice/rs/login?next=%2F');
    assert.equal(rw.location('http://127.0.0.1:5000/x#f', undefined), '/apps/alice/rs/x#f');
    assert.equal(rw.location('https://hub.example.org/', undefined), '/apps/alice/rs/');
    assert.equal(rw.location('http://proxy.local:8000/y', 'proxy.local:8000'), '/apps/alice/rs/y');
  });

  it('leaves relative, foreign and already prefixed Locations alone', () => {
    assert.equal(rw.location('login', undefined), 'login');
    assert.equal(rw.location('https://github.com/login', undefined), 'https://github.com/login');
    assert.equal(rw.location('//evil.example.com/x', undefined), '//evil.example.com/x');
    assert.equal(rw.location('/apps/alice/rs/tree', undefined), '/apps/alice/rs/tree');
  });

  it('moves cookie paths under the prefix', () => {
    assert.equal(rw.setCookie('a=1; Path=/; HttpOnly'), 'a=1; Path=/apps/alice/rs/; HttpOnly');
    assert.equal(rw.setCookie('a=1; path=/sub'), 'a=1; path=/apps/alice/rs/sub');
    assert.equal(rw.setCookie('a=1; Path=/apps/alice/rs/x'), 'a=1; Path=/apps/alice/rs/x');
    assert.equal(rw.setCookie('a=1'), 'a=1');
  });
});
