import assert from 'node:assert/strict';
import {
  answerProven,
  CallVerifier,
  proveAnswer,
  signCall,
  WINDOW_MS,
} from '../../../src/protocol/challenge.js';

const SECRET = 'per-server-secret-abcdefghijklmnop';

describe('the challenge-response between the service and a proxy', () => {
  it('accepts a call signed with the secret once, and refuses the same header replayed', () => {
    const v = new CallVerifier(SECRET);
    const call = signCall(SECRET, 'GET', '/_hubapps/health?since=0');
    assert.equal(v.verify('GET', '/_hubapps/health?since=0', call.header), call.nonce);
    assert.equal(v.verify('GET', '/_hubapps/health?since=0', call.header), undefined);
  });

  it('refuses a call signed with another secret, for another path or method, or with the secret sent as a bearer token', () => {
    const v = new CallVerifier(SECRET);
    assert.equal(
      v.verify(
        'GET',
        '/_hubapps/health',
        signCall('another-secret-0123456789', 'GET', '/_hubapps/health').header,
      ),
      undefined,
    );
    assert.equal(
      v.verify('POST', '/_hubapps/shutdown', signCall(SECRET, 'GET', '/_hubapps/health').header),
      undefined,
    );
    assert.equal(
      v.verify('POST', '/_hubapps/shutdown', signCall(SECRET, 'GET', '/_hubapps/shutdown').header),
      undefined,
    );
    assert.equal(v.verify('GET', '/_hubapps/health', `Bearer ${SECRET}`), undefined);
    assert.equal(v.verify('GET', '/_hubapps/health', undefined), undefined);
  });

  it('refuses a call whose time is outside the window', () => {
    let now = 1_000_000_000;
    const v = new CallVerifier(SECRET, () => now);
    const old = signCall(SECRET, 'GET', '/x', now - WINDOW_MS - 1);
    assert.equal(v.verify('GET', '/x', old.header), undefined);
    const fresh = signCall(SECRET, 'GET', '/x', now);
    now += WINDOW_MS + 1;
    assert.equal(v.verify('GET', '/x', fresh.header), undefined);
  });

  it('proves an answer only for the call it answers, its status and its exact bytes', () => {
    const body = Buffer.from('{"serverId":7}');
    const proof = proveAnswer(SECRET, 'aa'.repeat(16), 200, body);
    assert.equal(answerProven(SECRET, 'aa'.repeat(16), 200, body, proof), true);
    assert.equal(answerProven(SECRET, 'bb'.repeat(16), 200, body, proof), false);
    assert.equal(answerProven(SECRET, 'aa'.repeat(16), 202, body, proof), false);
    assert.equal(
      answerProven(SECRET, 'aa'.repeat(16), 200, Buffer.from('{"serverId":8}'), proof),
      false,
    );
    assert.equal(
      answerProven('other-secret-0123456789abc', 'aa'.repeat(16), 200, body, proof),
      false,
    );
    assert.equal(answerProven(SECRET, 'aa'.repeat(16), 200, body, undefined), false);
  });
});
