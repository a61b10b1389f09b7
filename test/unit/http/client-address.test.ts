import assert from 'node:assert/strict';
import { clientAddress } from '../../../src/http/client-address.js';

const TRUSTED = new Set(['127.0.0.1', '::1']);
const req = (peer: string, xff?: string) => ({
  socket: { remoteAddress: peer },
  headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
});

describe('the client address behind a request, for per-client limits', () => {
  it('is the address the trusted proxy in front appended, not what the client wrote before it', () => {
    assert.equal(clientAddress(req('127.0.0.1', '203.0.113.9'), TRUSTED), '203.0.113.9');
    assert.equal(
      clientAddress(req('::ffff:127.0.0.1', '198.51.100.1, 203.0.113.9'), TRUSTED),
      '203.0.113.9',
      'a forged first hop is skipped',
    );
    assert.equal(
      clientAddress(req('127.0.0.1', '198.51.100.1, 203.0.113.9, 127.0.0.1'), TRUSTED),
      '203.0.113.9',
      'nginx and CHP both on loopback',
    );
  });

  it('is the peer itself when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    assert.equal(clientAddress(req('203.0.113.9', '127.0.0.1'), TRUSTED), '203.0.113.9');
    assert.equal(clientAddress(req('::ffff:192.0.2.7', '198.51.100.1'), TRUSTED), '192.0.2.7');
  });

  it('is the trusted peer for its own requests without a forwarded address', () => {
    assert.equal(clientAddress(req('127.0.0.1'), TRUSTED), '127.0.0.1');
    assert.equal(clientAddress(req('::1', '::1'), TRUSTED), '::1');
  });
});
