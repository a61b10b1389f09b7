import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Authenticator } from '../../../src/auth/authenticator.js';
import { AdminPolicy } from '../../../src/auth/admins.js';
import { HubClient } from '../../../src/auth/hub-client.js';
import { HUB_TOKEN_SCOPES, HubServerTokens } from '../../../src/lifecycle/hub-tokens.js';
import type { LifecycleDeps } from '../../../src/lifecycle/deps.js';
import { issueServerToken } from '../../../src/lifecycle/start.js';
import { AuthStore } from '../../../src/store/auth.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { HubTokenStore } from '../../../src/store/hub-tokens.js';
import { ServerStore, type ServerRow } from '../../../src/store/servers.js';
import { LocalUserDirectory } from '../../../src/users/local.js';
import { LocalUserPolicy } from '../../../src/users/policy.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';

interface HubCall {
  method: string;
  url: string;
  auth: string;
  body: Record<string, unknown>;
}

/**
 * A stand-in for JupyterHub's token API: alice may get tokens, bob's come with 403 (the
 * service lacks the tokens scope on him); DELETE answers `deleteStatus`. GET /user answers
 * for the tokens it issued, with the scopes they were issued with.
 */
class FakeHub {
  readonly calls: HubCall[] = [];
  deleteStatus = 204;
  private issued = new Map<string, { id: string; user: string }>();
  private server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () =>
        this.answer(req.method!, req.url!, req.headers.authorization ?? '', raw, res),
      );
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hub/api`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(
    method: string,
    url: string,
    auth: string,
    raw: string,
    res: import('node:http').ServerResponse,
  ): void {
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    this.calls.push({ method, url, auth, body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const post = /^\/hub\/api\/users\/([^/]+)\/tokens$/.exec(url);
    if (method === 'POST' && post?.[1] === 'alice') {
      const id = `a${this.issued.size + 1}`;
      const token = `hubtoken${this.issued.size + 1}`;
      this.issued.set(token, { id, user: 'alice' });
      return json(201, { id, token, note: body.note, scopes: body.scopes });
    }
    if (method === 'POST')
      return json(403, {
        status: 403,
        message: 'Service hubapps not found or no permissions to generate tokens',
      });
    if (method === 'DELETE') {
      res.writeHead(this.deleteStatus);
      return void res.end();
    }
    const who = [...this.issued.entries()].find(([t]) => auth === `token ${t}`);
    if (method === 'GET' && url === '/hub/api/user' && who)
      return json(200, {
        kind: 'user',
        name: who[1].user,
        admin: false,
        groups: [],
        scopes: [...HUB_TOKEN_SCOPES],
      });
    json(403, { status: 403, message: 'Forbidden' });
  }
}

describe('server tokens issued by JupyterHub (jupyterhub.server_tokens_from_hub)', () => {
  let dir: TmpDir;
  let db: Db;
  let servers: ServerStore;
  let hubTokens: HubTokenStore;
  let hub: FakeHub;
  let warnings: string[];
  let n = 0;

  const tokensWith = (url: string) =>
    new HubServerTokens(
      new HubClient(url, 'service-token', 30, 'hubapps'),
      hubTokens,
      pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }),
      3600,
    );

  const newRow = (user: string): ServerRow => {
    const row = servers.claim({
      user,
      name: `s${++n}`,
      app: 'whoami',
      options: {},
      port: null,
      secret: 'secret-0123456789',
      logFile: '/tmp/x.log',
      actor: user,
    });
    return row;
  };

  const depsWith = (tokens: HubServerTokens) =>
    ({ hubTokens: tokens, store: servers }) as unknown as LifecycleDeps;

  beforeEach(async () => {
    dir = await tmpDir('hub-tokens');
    db = openDb(`${dir.path}/db.sqlite`);
    servers = new ServerStore(db);
    hubTokens = new HubTokenStore(db);
    hub = new FakeHub();
    await hub.listen();
    warnings = [];
  });
  afterEach(async () => {
    await hub.close();
    db.close();
    await dir.remove();
  });

  it("asks the hub with the service's token for a narrow, expiring token of the owner and makes it the server's token", async () => {
    const row = newRow('alice');
    const token = await issueServerToken(depsWith(tokensWith(hub.url)), row);
    assert.equal(token, 'hubtoken1');
    const post = hub.calls.find((c) => c.method === 'POST')!;
    assert.equal(post.url, '/hub/api/users/alice/tokens');
    assert.equal(post.auth, 'token service-token');
    assert.deepEqual(post.body, {
      note: `hubapps server alice/${row.name}`,
      expires_in: 3600,
      scopes: ['read:users:name!user', 'users:activity!user'],
    });
    assert.equal(servers.byId(row.id)!.hub_token_id, 'a1');
    assert.equal(new AuthStore(db).serverToken(token)?.id, row.id);
    assert.deepEqual(hubTokens.orphans(), []);
    assert.deepEqual(warnings, []);
  });

  it('falls back to a hubapps-made token with one warning when the hub refuses (no tokens scope)', async () => {
    const row = newRow('bob');
    const token = await issueServerToken(depsWith(tokensWith(hub.url)), row);
    assert.match(token, /^ha_/);
    assert.equal(new AuthStore(db).serverToken(token)?.id, row.id);
    assert.equal(servers.byId(row.id)!.hub_token_id, null);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /JupyterHub answered 403 when asked for a token of bob: .*no permissions to generate tokens/,
    );
  });

  it('falls back to a hubapps-made token with one warning when the hub is down', async () => {
    await hub.close();
    const down = hub.url;
    hub = new FakeHub();
    await hub.listen();
    const row = newRow('alice');
    const token = await issueServerToken(depsWith(tokensWith(down)), row);
    assert.match(token, /^ha_/);
    assert.equal(new AuthStore(db).serverToken(token)?.id, row.id);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /not reachable/);
  });

  it('deletes the token at the hub once its server has ended, and forgets it then', async () => {
    const tokens = tokensWith(hub.url);
    const row = newRow('alice');
    await issueServerToken(depsWith(tokens), row);
    await tokens.sweep();
    assert.equal(
      hub.calls.filter((c) => c.method === 'DELETE').length,
      0,
      'a live server keeps its token',
    );
    servers.transition(row.id, 'stopped', { message: 'stopped' });
    assert.equal(servers.byId(row.id)!.hub_token_id, null);
    await tokens.sweep();
    const del = hub.calls.filter((c) => c.method === 'DELETE');
    assert.deepEqual(
      del.map((c) => [c.url, c.auth]),
      [['/hub/api/users/alice/tokens/a1', 'token service-token']],
    );
    assert.deepEqual(hubTokens.orphans(), []);
  });

  it('keeps a token the hub could not delete and deletes it on a later pass', async () => {
    const tokens = tokensWith(hub.url);
    const row = newRow('alice');
    await issueServerToken(depsWith(tokens), row);
    servers.transition(row.id, 'failed', { message: 'gone' });
    hub.deleteStatus = 503;
    await tokens.sweep();
    assert.deepEqual(
      hubTokens.orphans().map((t) => t.token_id),
      ['a1'],
    );
    assert.match(warnings.join(''), /could not be deleted at JupyterHub yet/);
    hub.deleteStatus = 204;
    await tokens.sweep();
    assert.equal(hub.calls.filter((c) => c.method === 'DELETE').length, 2);
    assert.deepEqual(hubTokens.orphans(), []);
  });

  it('deletes the token of a server that ends while a pass is already running, in a pass after it', async () => {
    const tokens = tokensWith(hub.url);
    const first = newRow('alice');
    const second = newRow('alice');
    await issueServerToken(depsWith(tokens), first);
    await issueServerToken(depsWith(tokens), second);
    servers.transition(first.id, 'stopped', { message: 'stopped' });
    const running = tokens.sweep();
    servers.transition(second.id, 'stopped', { message: 'stopped' });
    await Promise.all([running, tokens.sweep()]);
    assert.deepEqual(
      hub.calls.filter((c) => c.method === 'DELETE').map((c) => c.url),
      ['/hub/api/users/alice/tokens/a1', '/hub/api/users/alice/tokens/a2'],
    );
    assert.deepEqual(hubTokens.orphans(), []);
  });

  it("deletes a retried start's earlier token while the server keeps its new one", async () => {
    const tokens = tokensWith(hub.url);
    const row = newRow('alice');
    await issueServerToken(depsWith(tokens), row);
    const second = await issueServerToken(depsWith(tokens), row);
    await tokens.sweep();
    assert.deepEqual(
      hub.calls.filter((c) => c.method === 'DELETE').map((c) => c.url),
      ['/hub/api/users/alice/tokens/a1'],
    );
    assert.equal(new AuthStore(db).serverToken(second)?.id, row.id);
    assert.equal(servers.byId(row.id)!.hub_token_id, 'a2');
  });

  it('forgets an expired token without asking the hub', async () => {
    const row = newRow('alice');
    hubTokens.hold(row.id, 'hash', {
      token_id: 'a9',
      hub_user: 'alice',
      expires_at: '2000-01-01T00:00:00.000Z',
    });
    servers.transition(row.id, 'stopped', { message: 'stopped' });
    await tokensWith(hub.url).sweep();
    assert.equal(hub.calls.length, 0);
    assert.deepEqual(hubTokens.orphans(), []);
  });

  it("is recognised by hubapps as its server's token, never as the user's hub token, and after the stop grants nothing here", async () => {
    const row = newRow('alice');
    const token = await issueServerToken(depsWith(tokensWith(hub.url)), row);
    servers.transition(row.id, 'running', { message: 'ready' });
    const auth = new Authenticator(
      { admin_token: undefined, public_url: 'http://127.0.0.1:8000', trusted_proxies: [] },
      new AuthStore(db),
      new AdminPolicy({ admin_users: ['alice'], admin_groups: [] }, new LocalUserDirectory()),
      new LocalUserPolicy(),
      new HubClient(hub.url, 'service-token', 0, 'hubapps'),
      '/services/hubapps/',
    );
    auth.serversSettled();
    const who = await auth.fromToken(token, '127.0.0.1');
    assert.deepEqual(
      { name: who?.name, admin: who?.admin, via: who?.via, server: who?.server?.id },
      { name: 'alice', admin: false, via: 'server_token', server: row.id },
    );
    assert.equal(hub.calls.filter((c) => c.url === '/hub/api/user').length, 0);
    servers.transition(row.id, 'stopped', { message: 'stopped' });
    // Even if the hub still knew it (its deletion failed), its scopes do not reach hubapps.
    await assert.rejects(auth.fromToken(token, '127.0.0.1'), (err: any) => {
      assert.equal(err.code, 'token_scope');
      assert.equal(err.status, 403);
      return true;
    });
  });
});
