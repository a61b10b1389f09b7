import assert from 'node:assert/strict';
import { PortAccess } from '../../../../src/proxy/ports/port-access.js';
import type { ServiceAnswer } from '../../../../src/proxy/access/service-call.js';
import type { PortAccessRequest } from '../../../../src/protocol/wire.js';

interface Call {
  url: string;
  body: PortAccessRequest;
  signed: boolean;
}

function fakeService(answer: () => ServiceAnswer | Error) {
  const calls: Call[] = [];
  const post = (url: URL, _secret: string, body: unknown, signed: boolean) => {
    calls.push({ url: url.href, body: body as PortAccessRequest, signed });
    const a = answer();
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
  return { calls, post };
}

const make = (post: ReturnType<typeof fakeService>['post'], revalidateMs = 60_000) =>
  new PortAccess({
    serverId: 7,
    secret: 's'.repeat(32),
    serviceUrl: 'http://127.0.0.1:1/services/hubapps/',
    revalidateMs,
    post,
  });

describe("the service's port-access answer in the proxy", () => {
  it('asks with a signed call naming server, user, port and kind, and caches a yes', async () => {
    const svc = fakeService(() => ({ status: 200, body: '{"ttl":30}' }));
    const access = make(svc.post);
    assert.equal(await access.check('alice', 8787, 'server'), null);
    assert.equal(access.check('alice', 8787, 'server'), null, 'a cached yes answers at once');
    assert.equal(svc.calls.length, 1);
    assert.deepEqual(svc.calls[0], {
      url: 'http://127.0.0.1:1/services/hubapps/api/internal/port-access',
      body: { serverId: 7, user: 'alice', port: 8787, kind: 'server' },
      signed: true,
    });
  });

  it('keeps one answer per (user, port, kind)', async () => {
    const svc = fakeService(() => ({ status: 200, body: '{"ttl":30}' }));
    const access = make(svc.post);
    await access.check('alice', 8787, 'server');
    await access.check('alice', 8787, 'host');
    await access.check('alice', 8788, 'server');
    await access.check('bob', 8787, 'server');
    assert.equal(svc.calls.length, 4);
  });

  it('trusts a yes no longer than the re-validation interval, even with a longer ttl', async () => {
    const svc = fakeService(() => ({ status: 200, body: '{"ttl":3600}' }));
    const access = make(svc.post, 30);
    await access.check('alice', 8787, 'server');
    await new Promise((r) => setTimeout(r, 60));
    await access.check('alice', 8787, 'server');
    assert.equal(svc.calls.length, 2);
  });

  it("shows the service's refusal and does not cache it", async () => {
    const svc = fakeService(() => ({
      status: 403,
      body: '{"status":403,"message":"alice has not shared port 8787 with bob"}',
    }));
    const access = make(svc.post);
    assert.deepEqual(await access.check('bob', 8787, 'server'), {
      status: 403,
      message: 'alice has not shared port 8787 with bob',
    });
    await access.check('bob', 8787, 'server');
    assert.equal(svc.calls.length, 2);
  });

  it('passes the cap (409) on with its message', async () => {
    const svc = fakeService(() => ({
      status: 409,
      body: '{"status":409,"message":"cap reached"}',
    }));
    const r = await make(svc.post).check('alice', 8787, 'server');
    assert.equal(r?.status, 409);
  });

  it('answers 503, never yes, when the service is unreachable or answers nonsense', async () => {
    for (const answer of [
      new Error('ECONNREFUSED'),
      { status: 500, body: 'oops' },
      { status: 302, body: '' },
    ]) {
      const svc = fakeService(() => answer);
      const r = await make(svc.post).check('alice', 8787, 'server');
      assert.equal(r?.status, 503, JSON.stringify(answer));
      assert.match(r!.message, /does not answer/);
    }
  });
});
