import assert from 'node:assert/strict';
import { MAX_ACTIVITY_SKEW_MS, parseActivity } from '../../../src/api/activity.js';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

/** The HubappsError `fn` throws: its code and message. */
function refusal(fn: () => unknown): { code: string; message: string; status: number } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; status: number };
  }
  assert.fail('expected a refusal');
}

describe("the activity endpoint's body (JupyterHub's shape)", () => {
  it('reads the servers and their times, in the service form of ISO times', () => {
    const got = parseActivity(
      {
        last_activity: '2026-03-01T11:59:00Z',
        servers: {
          lab: { last_activity: '2026-03-01T11:58:00+01:00' },
          rstudio: { last_activity: '2026-03-01T11:59:30.123456Z' },
        },
      },
      undefined,
      NOW,
    );
    assert.deepEqual(
      [...got],
      [
        ['lab', '2026-03-01T10:58:00.000Z'],
        ['rstudio', '2026-03-01T11:59:30.123Z'],
      ],
    );
  });

  it("takes the top-level time alone as the server token's own server", () => {
    const got = parseActivity({ last_activity: '2026-03-01T11:59:00Z' }, 'lab', NOW);
    assert.deepEqual([...got], [['lab', '2026-03-01T11:59:00.000Z']]);
  });

  it('accepts a small clock skew, and refuses a time further in the future', () => {
    const near = new Date(NOW + MAX_ACTIVITY_SKEW_MS - 1000).toISOString();
    assert.equal(
      parseActivity({ servers: { lab: { last_activity: near } } }, undefined, NOW).size,
      1,
    );
    const far = new Date(NOW + MAX_ACTIVITY_SKEW_MS + 1000).toISOString();
    const err = refusal(() =>
      parseActivity({ servers: { lab: { last_activity: far } } }, undefined, NOW),
    );
    assert.equal(err.code, 'invalid_body');
    assert.match(err.message, /servers\.lab\.last_activity" is in the future/);
  });

  for (const [what, body, message] of [
    ['no body', undefined, /JSON object/],
    ['an array', [], /JSON object/],
    [
      'an unknown field',
      { last_activity: '2026-03-01T11:00:00Z', user: 'x' },
      /unknown field 'user'/,
    ],
    ['servers not an object', { servers: ['lab'] }, /"servers" must be an object/],
    [
      'a server without a time',
      { servers: { lab: {} } },
      /servers\.lab\.last_activity" must be an ISO 8601/,
    ],
    [
      'a time without a zone',
      { servers: { lab: { last_activity: '2026-03-01T11:00:00' } } },
      /ISO 8601 time with a zone/,
    ],
    ['a time that is a number', { servers: { lab: { last_activity: NOW } } }, /ISO 8601/],
    [
      'a date that does not exist',
      { servers: { lab: { last_activity: '2026-02-31T25:00:00Z' } } },
      /ISO 8601/,
    ],
    [
      'a bad server name',
      { servers: { '../x': { last_activity: '2026-03-01T11:00:00Z' } } },
      /server name/i,
    ],
    [
      'no servers and no server token',
      { last_activity: '2026-03-01T11:00:00Z' },
      /name the servers/,
    ],
    ['an empty servers object', { servers: {} }, /name the servers/],
  ] as const) {
    it(`refuses ${what} with 400 and a message naming the problem`, () => {
      const err = refusal(() => parseActivity(body, undefined, NOW));
      assert.equal(err.status, 400, err.message);
      assert.match(err.message, message);
    });
  }
});
