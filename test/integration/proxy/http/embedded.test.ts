import assert from 'node:assert/strict';
import { echoApp } from '../apps.js';
import {
  Catalog,
  fetchRaw,
  startFakeService,
  startProxy,
  type FakeService,
  type RunningProxy,
} from '../../../unit/proxy/harness.js';

const LMS = 'https://lms.example.edu';
const PAGE = '/apps/alice/echo/notebook';
/** What Chromium sends for an iframe's src on a page of another site. */
const FRAMED = {
  accept: 'text/html',
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'iframe',
  referer: `${LMS}/course`,
};

describe('hubapps-proxy inside a frame of another site (app_embedding)', () => {
  let catalog: Catalog;
  let service: FakeService;
  let embeddable: RunningProxy;
  let closed: RunningProxy;

  before(async () => {
    catalog = await Catalog.create();
    service = await startFakeService();
    echoApp(catalog, 'echo');
    embeddable = await startProxy({
      catalog,
      app: 'echo',
      service,
      framing: { frames: 'server', popups: 'isolate', embedders: [LMS] },
    });
    closed = await startProxy({ catalog, app: 'echo', service, serverId: 8 });
    await Promise.all([embeddable.ready(), closed.ready()]);
  });
  after(async () => {
    await embeddable?.kill();
    await closed?.kill();
    await service?.close();
    await catalog?.remove();
  });

  it('answers a framed load without a cookie with the sign-in page, framable by the embedding site only', async () => {
    const res = await fetchRaw(embeddable.spec.port, PAGE, { headers: FRAMED });
    assert.equal(res.status, 401);
    assert.match(res.body, /<button id="sign-in"/);
    assert.match(res.body, /embed=1/);
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, new RegExp(`frame-ancestors 'self' ${LMS}$`));
    assert.match(csp, /script-src 'nonce-[\w+/=]+'/);
    assert.match(
      String(res.headers['set-cookie']),
      /^hubapps-grant-7=[\w-]{43}; .*Secure; SameSite=None; Partitioned/,
    );
    assert.doesNotMatch(res.body, /"method":"GET"/, 'the app answered without a credential');
  });

  it('refuses the same framed load with 403 on a server no site may embed', async () => {
    const res = await fetchRaw(closed.spec.port, '/apps/alice/echo/notebook', { headers: FRAMED });
    assert.equal(res.status, 403);
    assert.match(res.body, /another app or site may not use or frame it/);
  });

  it("still refuses another site's framed form posts and fetches, whatever may embed the server", async () => {
    const post = await fetchRaw(embeddable.spec.port, PAGE, {
      method: 'POST',
      headers: { ...FRAMED, authorization: 'token alice-token' },
      body: 'x=1',
    });
    assert.equal(post.status, 403);
    const fetched = await fetchRaw(embeddable.spec.port, PAGE, {
      headers: {
        ...FRAMED,
        'sec-fetch-mode': 'cors',
        'sec-fetch-dest': 'empty',
        authorization: 'token alice-token',
      },
    });
    assert.equal(fetched.status, 403);
  });

  it('lets a framed load with a credential through to the app, with the framing policy on its answer', async () => {
    const res = await fetchRaw(embeddable.spec.port, PAGE, {
      headers: { ...FRAMED, authorization: 'token alice-token' },
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(JSON.parse(res.body).url, '/notebook');
    assert.equal(res.headers['content-security-policy'], `frame-ancestors 'self' ${LMS}`);
  });
});
