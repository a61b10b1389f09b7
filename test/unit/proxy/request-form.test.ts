import assert from 'node:assert/strict';
import { HubappsError } from '../../../src/errors.js';
import { parseRequest } from '../../../src/proxy/request.js';
import type { StartRequest } from '../../../src/protocol/wire.js';

const START = {
  op: 'start',
  version: 1,
  server: { id: 1, user: 'alice', name: 'lab' },
  app: 'lab',
  options: {},
  port: 5000,
  secret: 's'.repeat(32),
  publicOrigin: 'https://hub.example.org',
  allowedOrigins: [],
  prefix: '/apps/alice/lab/',
  serviceUrl: 'http://127.0.0.1:1/services/hubapps/',
  stopGraceMs: 1000,
  readyTimeoutMs: 1000,
};

describe("hubapps-proxy's start request: the launch form's values", () => {
  it('takes them as an object by field name, and none as {}', () => {
    const req = parseRequest(JSON.stringify({ ...START, form: { workdir: 'x', n: 2 } }));
    assert.deepEqual((req as StartRequest).form, { workdir: 'x', n: 2 });
    assert.deepEqual((parseRequest(JSON.stringify(START)) as StartRequest).form, {});
  });

  it('refuses form values that are not an object', () => {
    for (const form of [['--x'], 'x', null, 1])
      assert.throws(
        () => parseRequest(JSON.stringify({ ...START, form })),
        (err: unknown) =>
          err instanceof HubappsError && /'form' must be an object/.test(err.message),
        JSON.stringify(form),
      );
  });
});
