import assert from 'node:assert/strict';
import { HubappsError } from '../../../src/errors.js';
import { parseRequest } from '../../../src/proxy/request.js';
import type { StartRequest } from '../../../src/protocol/wire.js';

const START = {
  op: 'start',
  version: 1,
  server: { id: 1, user: 'alice', name: 'web' },
  app: 'web',
  options: {},
  port: 5000,
  secret: 's'.repeat(32),
  publicOrigin: 'https://hub.example.org',
  allowedOrigins: [],
  prefix: '/apps/alice/web/',
  serviceUrl: 'http://127.0.0.1:1/services/hubapps/',
  stopGraceMs: 1000,
  readyTimeoutMs: 1000,
};
const framing = (f: unknown) =>
  (parseRequest(JSON.stringify({ ...START, framing: f })) as StartRequest).framing;

describe("hubapps-proxy start request: the framing policy's embedding sites", () => {
  it('takes the embedding origins, and none when the field is absent', () => {
    assert.deepEqual(
      framing({ frames: 'server', popups: 'isolate', embedders: ['https://lms.example.edu'] })
        .embedders,
      ['https://lms.example.edu'],
    );
    assert.deepEqual(framing({ frames: 'none', popups: 'isolate' }).embedders, []);
  });

  it('refuses what is not an origin in its canonical form (a path, upper case, a wildcard, another scheme), naming the field', () => {
    for (const bad of [
      'https://lms.example.edu/course',
      'https://LMS.example.edu',
      '*',
      'javascript:alert(1)',
      7,
    ]) {
      assert.throws(
        () => framing({ frames: 'server', popups: 'isolate', embedders: [bad] }),
        (err: unknown) =>
          err instanceof HubappsError && /framing\.embedders\[0\]/.test(err.message),
        String(bad),
      );
    }
    assert.throws(
      () => framing({ frames: 'server', popups: 'isolate', embedders: 'https://lms.example.edu' }),
      /'framing\.embedders' must be an array/,
    );
  });
});
