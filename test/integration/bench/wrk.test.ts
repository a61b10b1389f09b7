import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWrk, runWrk, wrkAvailable } from '../../../bench/wrk.js';
import { median, percentile } from '../../../bench/stats.js';
import { requirePrerequisite } from '../../helpers/index.js';

function serve(status: number): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) =>
    res.writeHead(status, { 'content-length': 2 }).end('ok'),
  );
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }),
    ),
  );
}

describe('bench: reading wrk', function () {
  this.timeout(20_000);

  it('reads req/s and the 50th and 99th latency percentiles from a real wrk run, with no errors against a healthy server', async function () {
    requirePrerequisite(this, wrkAvailable(), 'needs wrk (apt-get install wrk)');
    const { server, url } = await serve(200);
    try {
      const r = await runWrk(url, { connections: 2, seconds: 1 });
      assert.ok(r.requests > 0 && r.rps > 0, JSON.stringify(r));
      assert.ok(r.p50 > 0 && r.p50 <= r.p99, JSON.stringify(r));
      assert.equal(r.errors, 0);
    } finally {
      server.close();
    }
  });

  it('counts error responses, so a run that measured error pages says so', async function () {
    requirePrerequisite(this, wrkAvailable(), 'needs wrk (apt-get install wrk)');
    const { server, url } = await serve(503);
    try {
      const r = await runWrk(url, { connections: 1, seconds: 1 });
      assert.ok(r.errors > 0 && r.errors === r.requests, JSON.stringify(r));
    } finally {
      server.close();
    }
  });

  it('converts us, ms and s latencies to milliseconds', () => {
    const text = [
      'Running 1s test @ http://127.0.0.1:1/',
      '  Latency Distribution',
      '     50%  250.00us',
      '     75%    1.00ms',
      '     90%    2.00ms',
      '     99%    1.50s ',
      '  1000 requests in 1.00s, 1.00MB read',
      'Requests/sec:   1000.00',
    ].join('\n');
    const r = parseWrk(text);
    assert.equal(r.p50, 0.25);
    assert.equal(r.p99, 1500);
    assert.equal(r.rps, 1000);
    assert.equal(r.errors, 0);
  });

  it('refuses output without a Requests/sec line instead of reporting zeros', () => {
    assert.throws(
      () => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'),
      /no Requests\/sec/,
    );
  });
});

describe('bench: statistics', () => {
  it('takes nearest-rank percentiles of unsorted samples', () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    assert.equal(median(samples), 5);
    assert.equal(percentile(samples, 95), 10);
    assert.equal(percentile(samples, 10), 1);
    assert.ok(Number.isNaN(median([])));
  });
});
