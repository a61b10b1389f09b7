import assert from 'node:assert/strict';
import { Scrollback } from '../../../../src/apps/terminal/scrollback.js';

describe('terminal scrollback', () => {
  it('replays everything while below its limit, in order', () => {
    const s = new Scrollback(1024);
    assert.equal(s.contents().length, 0);
    s.push(Buffer.from('one '));
    s.push(Buffer.from('two'));
    assert.equal(s.contents().toString(), 'one two');
  });

  it('never holds more than its limit and keeps the newest output', () => {
    const s = new Scrollback(100_000);
    for (let i = 0; i < 2000; i++) s.push(Buffer.from(`line ${i} ${'x'.repeat(i % 300)}\n`));
    assert.ok(s.bytes <= 100_000, `${s.bytes} bytes kept`);
    assert.ok(s.bytes > 50_000, 'drops old output a chunk at a time, not all of it');
    assert.equal(s.contents().length, s.bytes);
    assert.ok(
      s
        .contents()
        .toString()
        .endsWith(`line 1999 ${'x'.repeat(1999 % 300)}\n`),
    );
  });

  it('keeps the tail of a single chunk larger than the limit', () => {
    const s = new Scrollback(10);
    s.push(Buffer.from('abcdefghijklmnopqrstuvwxyz'));
    assert.equal(s.contents().toString(), 'qrstuvwxyz');
    s.push(Buffer.from('!'));
    assert.equal(s.contents().toString(), 'rstuvwxyz!');
  });
});
