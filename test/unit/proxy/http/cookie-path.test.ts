import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { ResponseHeaders } from '../../../../src/proxy/http/headers.js';
import { PrefixRewriter } from '../../../../src/proxy/http/rewrite.js';

const PREFIX = '/apps/alice/lab/';
/** Cookies that name a wide Path after (or instead of) a confined one: browsers use the last Path attribute. */
const SENT = [
  'a=1; Path=/apps/alice/lab/; Path=/',
  'b=2; path=/apps/alice/lab/x; HttpOnly; PATH=/',
  'c=3; Path = /; Secure',
  'd=4; Path=/apps/alice/lab/y',
  'e=5; Path=relative',
  'f=6',
];

/** The Path attributes of one Set-Cookie value, as a browser reads them. */
function paths(cookie: string): string[] {
  return cookie
    .split(';')
    .slice(1)
    .filter((a) => /^\s*path\s*(=|$)/i.test(a))
    .map((a) => a.slice(a.indexOf('=') + 1).trim());
}

function rewritten(rewriter: PrefixRewriter | null): string[] {
  const headers: IncomingHttpHeaders = { 'set-cookie': [...SENT] };
  new ResponseHeaders(PREFIX, { frames: 'server', popups: 'isolate' }, rewriter).apply(
    headers,
    'hub.example.org',
  );
  return headers['set-cookie']!;
}

describe("hubapps-proxy rebuilds each app cookie's Path: exactly one, inside the server", () => {
  for (const [layout, rewriter] of [
    ['an app that sees the full path', null],
    ['a strip_prefix app', new PrefixRewriter(PREFIX, new Set(['127.0.0.1:1234']))],
  ] as const) {
    it(`for ${layout}`, () => {
      const out = rewritten(rewriter);
      for (const cookie of out.slice(0, 5)) {
        const p = paths(cookie);
        assert.equal(p.length, 1, `${cookie}: ${p.length} Path attributes`);
        assert.ok(p[0]!.startsWith(PREFIX), `${cookie}: the browser would use Path=${p[0]}`);
      }
      assert.match(out[1]!, /HttpOnly/);
      assert.match(out[2]!, /Secure/);
      assert.equal(
        out[5],
        'f=6',
        'a cookie without Path keeps its default path, already below the request',
      );
    });
  }
});
