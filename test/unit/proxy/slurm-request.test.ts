import assert from 'node:assert/strict';
import { HubappsError } from '../../../src/errors.js';
import { parseRequest } from '../../../src/proxy/request.js';

const job = (jobId: unknown, op = 'slurm-cancel') =>
  JSON.stringify({ op, version: 1, jobId, server: { id: 3, name: 'web' } });

describe('hubapps-proxy Slurm requests on stdin', () => {
  it('takes a status or cancel request for a numeric job id', () => {
    assert.deepEqual(parseRequest(job('123')), {
      op: 'slurm-cancel',
      version: 1,
      jobId: '123',
      server: { id: 3, name: 'web' },
    });
    assert.equal(parseRequest(job('7', 'slurm-status')).op, 'slurm-status');
  });

  it("refuses a job id that is not a plain number (nothing reaches scancel's argv but digits)", () => {
    for (const bad of ['1;rm', '-u alice', '', 12, '1 2']) {
      assert.throws(
        () => parseRequest(job(bad)),
        (err: unknown) => err instanceof HubappsError && /jobId/.test(err.message),
        String(bad),
      );
    }
  });

  it('refuses a node-mode start whose request file is not a plain .json path', () => {
    const start = {
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
    assert.equal(
      parseRequest(
        JSON.stringify({ ...start, node: { specFile: '/home/alice/.hubapps/slurm/web-x.json' } }),
      ).op,
      'start',
    );
    assert.throws(
      () => parseRequest(JSON.stringify({ ...start, node: { specFile: 'relative.json' } })),
      /node.specFile/,
    );
    assert.throws(
      () => parseRequest(JSON.stringify({ ...start, node: { specFile: '/tmp/x y.json' } })),
      /node.specFile/,
    );
  });
});
