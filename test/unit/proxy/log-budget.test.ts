import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { LogBudget } from '../../../src/proxy/log-budget.js';
import { capLog } from '../../../src/store/server-logs.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';

describe('the app output log budget, enforced as it is written', () => {
  let dir: TmpDir;
  let file = '';
  let fd = 0;
  let now = 0;
  beforeEach(async () => {
    dir = await tmpDir('budget');
    file = join(dir.path, 'alice@lab.log');
    fd = fs.openSync(
      file,
      fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT,
      0o640,
    );
  });
  afterEach(async () => {
    fs.closeSync(fd);
    await dir.remove();
  });

  it('stops writing at the budget, says so once, and counts what it drops', () => {
    const budget = new LogBudget(fd, 4096, () => now);
    const line = Buffer.from(`${'y'.repeat(99)}\n`);
    for (let i = 0; i < 1000; i++) budget.write(line);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(fs.statSync(file).size <= 4096 + 200, `log is ${fs.statSync(file).size} bytes`);
    assert.equal(text.match(/reached its budget of 4096 bytes/g)?.length, 1);
    assert.equal(budget.droppedBytes, 100 * 1000 - 4000);
  });

  it('resumes once the service cut the log back, and says how much was lost', () => {
    const budget = new LogBudget(fd, 4096, () => now);
    const line = Buffer.from(`${'y'.repeat(99)}\n`);
    for (let i = 0; i < 100; i++) budget.write(line);
    assert.equal(capLog(file, 4096), true);
    now += 2000;
    budget.write('after the cut\n');
    const text = fs.readFileSync(file, 'utf8');
    assert.match(
      text,
      /\d+ bytes of output were dropped while the log was over its budget\nafter the cut\n$/,
    );
    assert.ok(fs.statSync(file).size <= 4096);
  });

  it('into something that is not a file (nothing to cut back), counts everything ever written against the budget', () => {
    const devNull = fs.openSync('/dev/null', 'w');
    try {
      const budget = new LogBudget(devNull, 4096, () => now);
      for (let i = 0; i < 100; i++) {
        now += 5000;
        budget.write(Buffer.alloc(100, 0x79));
      }
      assert.ok(
        budget.droppedBytes >= 100 * 100 - 4096 - 200,
        `dropped only ${budget.droppedBytes}`,
      );
    } finally {
      fs.closeSync(devNull);
    }
  });
});
