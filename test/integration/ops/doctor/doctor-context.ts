/** What doctor's checks are given, for a configuration written as a test needs it; not as root. */
import { loadConfig } from '../../../../src/config/load.js';
import type { ConfigInput } from '../../../../src/config/schema.js';
import type { DoctorContext } from '../../../../src/ops/doctor/check.js';

export function doctorContext(
  input: Partial<ConfigInput>,
  env: Record<string, string>,
): DoctorContext {
  const config = loadConfig(undefined, input, env);
  const { file: _file, ...settings } = config;
  return {
    configFile: '/etc/hubapps/hubapps.yaml',
    config,
    settings: settings as never,
    serviceUser: 'hubapps',
    account: undefined,
    root: false,
    sudoersHint: '',
  };
}
