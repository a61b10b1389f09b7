import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';

/** The ConfigError `fn` throws; fails the test when it throws nothing or something else. */
export function configFailure(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}
