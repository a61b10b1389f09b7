/**
 * A stand-in for the hubapps service's token check (SERVICE_PROXY_AUTH_PATH), run in the
 * bench process: hubapps-proxy asks it once whether the bench token may use the server.
 * It also redeems the one access code BENCH_GRANT (bound to BENCH_GRANT_COOKIE) that gives
 * the bench its session cookie, answers the proxy's once-a-minute session checks, and says
 * yes to every question about the user's own ports (the real service's policy, cap and
 * record are its own cost, asked once per port and minute; the bench measures the proxy's).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SERVICE_PORT_ACCESS_PATH,
  SERVICE_PROXY_AUTH_PATH,
  SERVICE_REDEEM_GRANT_PATH,
  SERVICE_SESSION_CHECK_PATH,
  type ProxyAuthRequest,
  type ProxyAuthResponse,
  type RedeemGrantRequest,
} from '../src/protocol/wire.js';

export const BENCH_GRANT = 'bench-access-code-0000000000000000';
export const BENCH_GRANT_COOKIE = 'bench-grant-cookie-000000000000000';

export interface TokenService {
  /** serviceUrl for a StartRequest. */
  url: string;
  /** Token checks answered so far. */
  calls(): number;
  /** Port-access questions answered so far. */
  portCalls(): number;
  close(): Promise<void>;
}

const PREFIX = '/services/hubapps/';

/** `prefix`: where a redeemed code sends the browser, per server id (the bench runs more than one proxy). */
export async function startTokenService(
  token: string,
  user: string,
  prefix: (serverId: number) => string = () => '/',
): Promise<TokenService> {
  let calls = 0;
  let portCalls = 0;
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === PREFIX + SERVICE_SESSION_CHECK_PATH)
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (req.method === 'POST' && req.url === PREFIX + SERVICE_PORT_ACCESS_PATH) {
        portCalls++;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ttl":60}');
      }
      if (req.method === 'POST' && req.url === PREFIX + SERVICE_REDEEM_GRANT_PATH) {
        const grant = JSON.parse(text) as RedeemGrantRequest;
        if (grant.code !== BENCH_GRANT || grant.binding !== BENCH_GRANT_COOKIE)
          return void res.writeHead(403).end();
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            user,
            admin: false,
            ttl: 0,
            next: prefix(grant.serverId),
            session: 'bench',
          }),
        );
      }
      if (req.method !== 'POST' || req.url !== PREFIX + SERVICE_PROXY_AUTH_PATH)
        return void res.writeHead(404).end();
      calls++;
      let body: ProxyAuthRequest | null = null;
      try {
        body = JSON.parse(text) as ProxyAuthRequest;
      } catch {
        // answered as an unknown token below
      }
      if (body?.token !== token)
        return void res
          .writeHead(403, { 'content-type': 'application/json' })
          .end('{"status":403,"message":"unknown token"}');
      const answer: ProxyAuthResponse = { user, admin: false, ttl: 60 };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${PREFIX}`,
    calls: () => calls,
    portCalls: () => portCalls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
