import { dirname, join } from 'node:path';
import { mergeChpEnv, readIfExists, urlPort, type ChpEnv } from '../install/site.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped } from './check.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The CHP units take their ports from chp.env (install's --chp-port, ...), the service from
 * hubapps.yaml: a port changed in one and not the other leaves the service talking to
 * nothing, or the apps CHP sending stopped hosts to nothing. Without the file there is
 * nothing to compare: CHP units written by hand need not read it.
 */
export function checkChpEnv(ctx: DoctorContext): CheckResult[] {
  const file = join(dirname(ctx.configFile), 'chp.env');
  if (!ctx.settings)
    return [skipped(`${file} against the configuration`, 'the config cannot be read')];
  let env: ChpEnv;
  try {
    const text = readIfExists(file);
    if (text === undefined)
      return [
        ok(
          `no ${file}: CHP units that do not come from hubapps install are not compared with the configuration`,
        ),
      ];
    env = mergeChpEnv(text, file, {});
  } catch (err) {
    return [
      fail(
        `${file} is not valid: ${(err as Error).message}`,
        `correct it (hubapps install --help lists each key's option and default), then systemctl restart the CHP units`,
      ),
    ];
  }
  const s = ctx.settings;
  const mismatches: string[] = [];
  const expect = (key: string, url: string, port: number, envKey: keyof ChpEnv) => {
    const u = new URL(url);
    if (!LOOPBACK.has(u.hostname) || urlPort(u) !== port)
      mismatches.push(
        `${key} is ${url}, but ${envKey}=${port} in ${file}: expected http://127.0.0.1:${port}`,
      );
  };
  expect('chp.api_url', s.chp.api_url, env.CHP_API_PORT, 'CHP_API_PORT');
  if (s.apps_domain !== undefined) {
    expect('apps_chp.api_url', s.apps_chp.api_url, env.APPS_CHP_API_PORT, 'APPS_CHP_API_PORT');
    const service = new URL(env.HUBAPPS_URL);
    if (urlPort(service) !== s.listen.port)
      mismatches.push(
        `listen.port is ${s.listen.port}, but the apps CHP sends unknown hosts to HUBAPPS_URL=${env.HUBAPPS_URL} (${file})`,
      );
  }
  if (mismatches.length > 0) {
    return [
      fail(
        `${ctx.configFile} and the CHP units' ports disagree`,
        `make them the same: edit ${file} (then systemctl restart the CHP units) or ${ctx.configFile} (then systemctl restart hubapps)`,
        mismatches,
      ),
    ];
  }
  return [ok(`${ctx.configFile} uses the ports the CHP units listen on (${file})`)];
}
