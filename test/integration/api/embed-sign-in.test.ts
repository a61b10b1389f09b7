import assert from 'node:assert/strict';
import { hashSecret } from '../../../src/secret-hash.js';
import { httpFetch } from '../../helpers/http-fetch.js';
import { useLoginLink } from '../../helpers/login-link.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

/** Answers "app <url>"; no braces, which the catalog would read as placeholders. */
const APP =
  "require('http').createServer((q, s) => s.end('app ' + q.url)).listen(+process.argv[1], '127.0.0.1')";
const HTML = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
/** The frame's partitioned grant cookie; the popup's authorize gets its hash. */
const NONCE = 'e'.repeat(43);

describe('api: the popup sign-in of a server framed by an allowed site (authorize with embed=1)', function () {
  this.timeout(30000);
  let stack: LocalStack;
  let alice: string;
  const service = (path: string, headers: Record<string, string>) =>
    httpFetch(`${stack.service.urls.serviceOrigin}${path}`, { headers });
  const authorize = (user: string, extra: Record<string, string> = { embed: '1' }) =>
    `/services/hubapps/authorize?${new URLSearchParams({ user, server: 'lab', binding: hashSecret(NONCE), next: '/x', ...extra })}`;

  before(async () => {
    stack = await startLocalStack({
      apps: { lab: { title: 'Lab', command: [process.execPath, '-e', APP, '{port}'] } },
      hostLayout: true,
      config: { admin_access: false, app_embedding: { allow: ['http://lms.e2e-embed.localhost'] } },
    });
    for (const user of ['alice', 'bob'])
      assert.equal(
        (await stack.api('POST', `/users/${user}/servers/lab`, { app: 'lab' })).status,
        202,
      );
    for (const user of ['alice', 'bob'])
      await waitFor(
        async () => (await stack.api('GET', `/users/${user}/servers/lab`)).body.state === 'running',
        { timeout: 15000, what: `${user}'s server to run` },
      );
    const link = await stack.api('POST', '/users/alice/login-links', {});
    const res = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
    alice = res.headers.get('set-cookie')!.split(';')[0]!;
  });
  after(async () => stack?.stop());

  it('keeps the popup its opener on the way to login, and isolates the same redirect outside a sign-in', async () => {
    const embed = await service(authorize('alice'), HTML);
    assert.equal(embed.status, 302);
    assert.match(
      embed.headers.get('location') ?? '',
      /\/services\/hubapps\/login\?next=.*embed%3D1/,
    );
    assert.equal(embed.headers.get('cross-origin-opener-policy'), 'unsafe-none');
    const plain = await service(authorize('alice', {}), HTML);
    assert.equal(plain.status, 302);
    assert.equal(plain.headers.get('cross-origin-opener-policy'), 'noopener-allow-popups');
  });

  it("hands a code bound to the frame's grant cookie to the opener, aimed at the server's origin only", async () => {
    const res = await service(authorize('alice'), { ...HTML, cookie: alice });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'unsafe-none');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    const page = await res.text();
    assert.ok(page.includes(`<script nonce="${nonce}">`));
    const origin = `http://lab--alice.apps.localhost:${stack.appsChp!.port}`;
    const sent = /postMessage\(\{ hubappsGrant: "([\w-]+)" \}, "([^"]+)"\)/.exec(page);
    assert.ok(sent, page);
    assert.equal(sent[2], origin);
    // The proxy redeems it with the frame's cookie, once: the same check as for a top-level grant.
    const row = stack.service.deps.store.get('alice', 'lab')!;
    const redeem = () =>
      httpFetch(`${stack.service.urls.serviceOrigin}/services/hubapps/api/internal/redeem-grant`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${row.secret!}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ serverId: row.id, code: sent[1], binding: NONCE }),
      });
    assert.equal((await redeem()).status, 200);
    assert.equal((await redeem()).status, 403, 'the code worked twice');
  });

  it("gives no code and keeps the window isolated when alice asks for bob's server", async () => {
    const res = await service(authorize('bob'), { ...HTML, cookie: alice });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'noopener-allow-popups');
    assert.doesNotMatch(await res.text(), /hubappsGrant/);
  });
});
