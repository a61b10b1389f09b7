import assert from 'node:assert/strict';
import { portPolicy } from '../../../../src/proxy/ports/request-ports.js';

describe('StartRequest.ports as the proxy checks it', () => {
  it('takes a sound policy', () => {
    assert.deepEqual(
      portPolicy({
        ranges: [[1024, 65535]],
        hostPorts: true,
        cors: [{ ports: [5000, 5000], origins: ['https://app.example.com'] }],
      }),
      {
        ranges: [[1024, 65535]],
        hostPorts: true,
        cors: [{ ports: [5000, 5000], origins: ['https://app.example.com'] }],
      },
    );
  });

  it('refuses each bad field with a message naming it', () => {
    const cases: [unknown, RegExp][] = [
      [{ ranges: [], hostPorts: false }, /'ports\.ranges' must name at least one range/],
      [{ ranges: [[0, 10]], hostPorts: false }, /'ports\.ranges\[0\]\[0\]'/],
      [{ ranges: [[10, 5]], hostPorts: false }, /'ports\.ranges\[0\]\[1\]'/],
      [{ ranges: [[1, 2, 3]], hostPorts: false }, /'ports\.ranges\[0\]' must be \[first, last\]/],
      [{ ranges: [[1, 2]], hostPorts: 'yes' }, /'ports\.hostPorts'/],
      [
        { ranges: [[1, 2]], hostPorts: false, cors: [{ ports: [1, 2], origins: ['*'] }] },
        /'ports\.cors\[0\]\.origins\[0\]'/,
      ],
    ];
    for (const [v, re] of cases) assert.throws(() => portPolicy(v), re, JSON.stringify(v));
  });
});
