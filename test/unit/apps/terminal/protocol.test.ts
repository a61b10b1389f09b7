import assert from 'node:assert/strict';
import { parseClientControl, sizeFromQuery } from '../../../../src/apps/terminal/protocol.js';

describe('terminal WebSocket protocol', () => {
  it('reads resize and ack messages', () => {
    assert.deepEqual(parseClientControl('{"type":"resize","cols":120,"rows":40}'), {
      type: 'resize',
      cols: 120,
      rows: 40,
    });
    assert.deepEqual(parseClientControl('{"type":"ack","bytes":65536}'), {
      type: 'ack',
      bytes: 65536,
    });
  });

  it('ignores malformed messages, unknown types and sizes a pty cannot take', () => {
    for (const text of [
      '',
      'ls\r',
      'null',
      '[]',
      '{"type":"exec","cmd":"id"}',
      '{"type":"resize","cols":0,"rows":24}',
      '{"type":"resize","cols":80.5,"rows":24}',
      '{"type":"resize","cols":99999,"rows":24}',
      '{"type":"resize","cols":"80","rows":24}',
      '{"type":"ack","bytes":-1}',
      '{"type":"ack","bytes":1e12}',
    ]) {
      assert.equal(parseClientControl(text), null, text);
    }
  });

  it('reads the initial size from the connection URL, or none', () => {
    assert.deepEqual(sizeFromQuery('cols=132&rows=43'), { cols: 132, rows: 43 });
    assert.equal(sizeFromQuery(''), null);
    assert.equal(sizeFromQuery('cols=132'), null);
    assert.equal(sizeFromQuery('cols=-1&rows=4'), null);
    assert.equal(sizeFromQuery('cols=0x10&rows=4'), null);
  });
});
