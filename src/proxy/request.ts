/**
 * Reading and checking the one ProxyRequest the service writes on stdin. Hand-written
 * checks rather than zod so that the 'version' and 'stop' ops start fast and small.
 */
import type { Readable } from 'node:stream';
import { SERVER_NAME, USER_NAME } from '../names.js';
import { refusedEnvName, refusedEnvValue } from '../protocol/app-env.js';
import {
  PROTOCOL_VERSION,
  type FramingPolicy,
  type ProxyRequest,
  type SlurmJobRequest,
  type StartRequest,
  type StopRequest,
} from '../protocol/wire.js';

import { array, bad, bool, int, matching, object, origin, str } from './request-checks.js';
import { portPolicy } from './ports/request-ports.js';
import { checkHubServer, hubBinding } from './access/request-hub.js';

export const STDIN_LIMIT = 64 * 1024;

/** Reads up to the first newline or end of input, whichever comes first; refuses more than `limit` bytes. */
export function readRequestText(input: Readable, limit = STDIN_LIMIT): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err?: Error) => {
      input.off('data', onData).off('end', onEnd).off('error', finish);
      input.pause();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      const nl = chunk.indexOf(10);
      const part = nl >= 0 ? chunk.subarray(0, nl) : chunk;
      size += part.length;
      if (size > limit) return finish(bad(`request on stdin is larger than ${limit} bytes`));
      chunks.push(part);
      if (nl >= 0) finish();
    };
    const onEnd = () => finish();
    input.on('data', onData).on('end', onEnd).on('error', finish);
  });
}

export function parseRequest(text: string): ProxyRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad(
      'stdin is not one JSON request: the service writes {"op": "start"|"stop"|"version", ...}',
    );
  }
  const req = object(value, 'request');
  if (req.version !== PROTOCOL_VERSION) {
    throw bad(
      `protocol version ${String(req.version)} is not supported: this proxy speaks version ${PROTOCOL_VERSION}`,
    );
  }
  switch (req.op) {
    case 'version':
      return { op: 'version', version: PROTOCOL_VERSION };
    case 'stop':
      return checkStop(req);
    case 'start':
      return checkStart(req);
    case 'slurm-submit':
      return {
        op: 'slurm-submit',
        version: PROTOCOL_VERSION,
        start: checkStart(object(req.start, 'start')),
      };
    case 'slurm-status':
    case 'slurm-cancel':
      return checkJob(req, req.op);
    default:
      throw bad(
        `unknown op ${JSON.stringify(req.op)}: expected start, stop, version, slurm-submit, slurm-status or slurm-cancel`,
      );
  }
}

function checkStop(req: Record<string, unknown>): StopRequest {
  const server = object(req.server, 'server');
  return {
    op: 'stop',
    version: PROTOCOL_VERSION,
    pid: int(req.pid, 'pid', 2),
    server: { id: int(server.id, 'server.id', 1) },
    ...(req.socket === undefined ? {} : { socket: socketPath(req.socket, 'socket') }),
  };
}

/** sun_path holds 108 bytes with its terminating NUL. */
const SOCKET_PATH = /^(?=.{2,107}$)\/[A-Za-z0-9_./-]+\.sock$/;
const DIRECTORY = /^(?=.{2,80}$)\/[A-Za-z0-9_./-]+$/;

function socketPath(v: unknown, key: string): string {
  return matching(v, key, SOCKET_PATH);
}

function checkJob(req: Record<string, unknown>, op: SlurmJobRequest['op']): SlurmJobRequest {
  const server = object(req.server, 'server');
  return {
    op,
    version: PROTOCOL_VERSION,
    jobId: matching(req.jobId, 'jobId', /^[0-9]{1,12}$/),
    server: {
      id: int(server.id, 'server.id', 1),
      name: matching(server.name, 'server.name', SERVER_NAME),
    },
  };
}

/** log_max_bytes' default, for requests that do not say. */
const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

function checkStart(req: Record<string, unknown>): StartRequest {
  const start = checkStartFields(req);
  if (req.hub === undefined) return start;
  const withHub = { ...start, hub: hubBinding(req.hub, start.prefix) };
  checkHubServer(withHub);
  return withHub;
}

function checkStartFields(req: Record<string, unknown>): StartRequest {
  const server = object(req.server, 'server');
  const prefix = str(req.prefix, 'prefix');
  const ownOrigin = req.ownOrigin === undefined ? false : bool(req.ownOrigin, 'ownOrigin');
  if (
    ownOrigin
      ? prefix !== '/'
      : !/^\/([^/?#\s]+\/)+$/.test(prefix) || prefix.includes('/../') || prefix.includes('/./')
  ) {
    throw bad(
      ownOrigin
        ? `prefix must be '/' for a server on its own origin`
        : `prefix '${prefix}' must be an absolute path ending in '/', e.g. /apps/alice/rstudio/`,
    );
  }
  return {
    op: 'start',
    version: PROTOCOL_VERSION,
    server: {
      id: int(server.id, 'server.id', 1),
      user: matching(server.user, 'server.user', USER_NAME),
      name: matching(server.name, 'server.name', SERVER_NAME),
    },
    app: matching(req.app, 'app', SERVER_NAME),
    options: object(req.options ?? {}, 'options'),
    form: req.form === undefined ? {} : object(req.form, 'form'),
    // On a socket the proxy needs no port of its own: 0 is an app without {port}.
    port: int(req.port, 'port', req.socket === undefined ? 1 : 0, 65535),
    ...(req.socket === undefined ? {} : { socket: socketPath(req.socket, 'socket') }),
    ...(req.appPort === undefined ? {} : { appPort: int(req.appPort, 'appPort', 1, 65535) }),
    ...(req.runtimeDir === undefined
      ? {}
      : { runtimeDir: matching(req.runtimeDir, 'runtimeDir', DIRECTORY) }),
    secret: matching(req.secret, 'secret', /^[\x21-\x7e]{16,512}$/, false),
    publicOrigin: origin(req.publicOrigin, 'publicOrigin'),
    ownOrigin,
    ...(req.launcherOrigin === undefined
      ? {}
      : { launcherOrigin: origin(req.launcherOrigin, 'launcherOrigin') }),
    allowedOrigins: array(req.allowedOrigins ?? [], 'allowedOrigins').map((o, i) =>
      origin(o, `allowedOrigins[${i}]`),
    ),
    framing: framing(req.framing),
    prefix,
    serviceUrl: serviceUrl(req.serviceUrl),
    stopGraceMs: int(req.stopGraceMs, 'stopGraceMs', 0, 3_600_000),
    ...(req.revalidateMs === undefined
      ? {}
      : { revalidateMs: int(req.revalidateMs, 'revalidateMs', 1000, 3_600_000) }),
    readyTimeoutMs: int(req.readyTimeoutMs, 'readyTimeoutMs', 1, 3_600_000),
    logMaxBytes: int(
      req.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES,
      'logMaxBytes',
      4096,
      Number.MAX_SAFE_INTEGER,
    ),
    ...appContext(req),
    ...(req.ports === undefined ? {} : { ports: portPolicy(req.ports) }),
    ...(req.node === undefined
      ? {}
      : {
          node: {
            specFile: matching(
              object(req.node, 'node').specFile,
              'node.specFile',
              /^\/[A-Za-z0-9_./-]+\.json$/,
            ),
          },
        }),
  };
}

/** What the app's environment gets from the service besides the catalog: each part checked as the config loader did. */
function appContext(
  req: Record<string, unknown>,
): Pick<StartRequest, 'apiToken' | 'environment' | 'group' | 'baseUrl'> {
  const out: Pick<StartRequest, 'apiToken' | 'environment' | 'group' | 'baseUrl'> = {};
  // A hubapps-made token, or one JupyterHub issued (hex, jupyterhub.server_tokens_from_hub).
  if (req.apiToken !== undefined)
    out.apiToken = matching(
      req.apiToken,
      'apiToken',
      /^(ha_[A-Za-z0-9_-]{16,128}|[0-9a-f]{32,128})$/,
      false,
    );
  if (req.group !== undefined)
    out.group = matching(req.group, 'group', /^[\x21-\x7e][\x20-\x7e]{0,255}$/, false);
  if (req.baseUrl !== undefined)
    out.baseUrl = matching(req.baseUrl, 'baseUrl', /^\/([A-Za-z0-9._~-]+\/)*$/);
  if (req.environment !== undefined) {
    const env = object(req.environment, 'environment');
    for (const [name, value] of Object.entries(env)) {
      const why =
        refusedEnvName(name) ??
        (typeof value === 'string' ? refusedEnvValue(value) : 'values must be strings');
      if (why) throw bad(`'environment.${name.slice(0, 64)}' is refused: ${why}`);
    }
    out.environment = env as Record<string, string>;
  }
  return out;
}

/** Absent: the strictest defaults, so an older service cannot loosen the proxy's framing rules. */
function framing(v: unknown): FramingPolicy {
  const f = object(v ?? {}, 'framing');
  const frames = f.frames ?? 'server';
  const popups = f.popups ?? 'isolate';
  if (frames !== 'server' && frames !== 'none')
    throw bad("'framing.frames' must be 'server' or 'none'");
  if (popups !== 'isolate' && popups !== 'allow')
    throw bad("'framing.popups' must be 'isolate' or 'allow'");
  const embedders = array(f.embedders ?? [], 'framing.embedders').map((o, i) =>
    origin(o, `framing.embedders[${i}]`),
  );
  return { frames, popups, embedders };
}

function serviceUrl(v: unknown): string {
  const s = str(v, 'serviceUrl');
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw bad(`'serviceUrl' must be an http URL such as http://127.0.0.1:10101/services/hubapps/`);
  }
  if (url.protocol !== 'http:' || !url.pathname.endsWith('/') || url.search || url.hash) {
    throw bad(
      `'serviceUrl' must be an http URL ending in '/', such as http://127.0.0.1:10101/services/hubapps/`,
    );
  }
  return url.href;
}
