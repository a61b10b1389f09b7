import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { frameAncestors, ResponseHeaders } from '../../../../src/proxy/http/headers.js';
import { crossSiteFrameLoad } from '../../../../src/http/request-source.js';

const LMS = 'https://lms.example.edu';

describe('proxy framing headers with embedding sites', () => {
  it("names the embedding sites after 'self' (server) or alone (none), and 'none' without any", () => {
    assert.equal(frameAncestors({ frames: 'server', popups: 'isolate' }), "frame-ancestors 'self'");
    assert.equal(frameAncestors({ frames: 'none', popups: 'isolate' }), "frame-ancestors 'none'");
    assert.equal(
      frameAncestors({ frames: 'server', popups: 'isolate', embedders: [LMS] }),
      `frame-ancestors 'self' ${LMS}`,
    );
    assert.equal(
      frameAncestors({
        frames: 'none',
        popups: 'isolate',
        embedders: [LMS, 'https://wiki.example.edu'],
      }),
      `frame-ancestors ${LMS} https://wiki.example.edu`,
    );
  });

  it("adds the policy after the app's own CSP, which it can only narrow", () => {
    const headers: IncomingHttpHeaders = { 'content-security-policy': 'frame-ancestors *' };
    new ResponseHeaders(
      '/apps/alice/lab/',
      { frames: 'server', popups: 'isolate', embedders: [LMS] },
      null,
    ).apply(headers, undefined);
    assert.equal(
      headers['content-security-policy'],
      `frame-ancestors *, frame-ancestors 'self' ${LMS}`,
    );
  });

  it('takes only GET page loads into a cross-site frame for an embedded load', () => {
    const h = (over: Record<string, string>) => ({
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'iframe',
      ...over,
    });
    assert.ok(crossSiteFrameLoad({ method: 'GET', headers: h({}) }));
    assert.ok(!crossSiteFrameLoad({ method: 'POST', headers: h({}) }));
    assert.ok(
      !crossSiteFrameLoad({ method: 'GET', headers: h({ 'sec-fetch-site': 'same-site' }) }),
    );
    assert.ok(!crossSiteFrameLoad({ method: 'GET', headers: h({ 'sec-fetch-dest': 'document' }) }));
    assert.ok(!crossSiteFrameLoad({ method: 'GET', headers: h({ 'sec-fetch-mode': 'cors' }) }));
    assert.ok(!crossSiteFrameLoad({ method: 'GET', headers: { referer: `${LMS}/course` } }));
  });
});
