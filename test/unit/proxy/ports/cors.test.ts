import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  allowedCorsOrigin,
  answerPreflight,
  isPreflight,
  tokenOnly,
} from '../../../../src/proxy/ports/cors.js';
import type { PortPolicy } from '../../../../src/protocol/wire.js';

const POLICY: PortPolicy = {
  ranges: [[1024, 65535]],
  hostPorts: false,
  cors: [{ ports: [5000, 5010], origins: ['https://app.example.com'] }],
};
const req = (headers: Record<string, string>, method = 'GET') =>
  ({ method, headers: { ...headers } }) as unknown as IncomingMessage;

describe('cross-site calls to a user port (user_ports.cors)', () => {
  it('allows a listed origin for a port in its range, whatever the letter case', () => {
    assert.equal(
      allowedCorsOrigin(req({ origin: 'https://APP.example.com' }), 5005, POLICY),
      'https://app.example.com',
    );
  });

  it('allows no other origin, no other port, and no request without Origin', () => {
    assert.equal(allowedCorsOrigin(req({ origin: 'https://evil.example' }), 5005, POLICY), null);
    assert.equal(allowedCorsOrigin(req({ origin: 'https://app.example.com' }), 5011, POLICY), null);
    assert.equal(allowedCorsOrigin(req({}), 5005, POLICY), null);
  });

  it('answers a preflight with the origin (never *), Vary: Origin, and no credentials', () => {
    const pre = req(
      {
        origin: 'https://app.example.com',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, content-type',
      },
      'OPTIONS',
    );
    assert.equal(isPreflight(pre), true);
    assert.equal(isPreflight(req({ origin: 'x' }, 'OPTIONS')), false);
    let status = 0;
    let headers: Record<string, unknown> = {};
    const res = {
      writeHead: (s: number, h: Record<string, unknown>) => ((status = s), (headers = h)),
      end: () => undefined,
    } as unknown as ServerResponse;
    answerPreflight(pre, res, 'https://app.example.com');
    assert.equal(status, 204);
    assert.equal(headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(headers.vary, 'Origin');
    assert.equal(headers['access-control-allow-methods'], 'PUT');
    assert.equal(headers['access-control-allow-headers'], 'authorization, content-type');
    assert.equal(headers['access-control-allow-credentials'], undefined);
  });

  it('removes cookies from a cross-site request and wants a token', () => {
    const withToken = req({ cookie: 'hubapps-proxy-7=abc', authorization: 'token t123' });
    assert.deepEqual(tokenOnly(withToken), { ok: true });
    assert.equal(withToken.headers.cookie, undefined);
    const cookieOnly = req({ cookie: 'hubapps-proxy-7=abc' });
    const refused = tokenOnly(cookieOnly);
    assert.equal(refused.ok, false);
    assert.match((refused as { message: string }).message, /Authorization: token/);
    assert.equal(cookieOnly.headers.cookie, undefined);
  });
});
