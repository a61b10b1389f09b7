import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { configSchema } from '../../../../src/config/schema.js';
import type { DoctorContext } from '../../../../src/ops/doctor/check.js';
import { checkHubUsernames } from '../../../../src/ops/doctor/hub-name-checks.js';
import { tmpDir, type TmpDir } from '../../../helpers/tmp.js';

describe("hubapps doctor: JupyterHub's user names as Unix accounts", () => {
  let tmp: TmpDir;
  let hubConfig: string;
  const context = (jupyterhub: object): DoctorContext => ({
    configFile: '/etc/hubapps/hubapps.yaml',
    config: undefined,
    settings: configSchema.parse({
      jupyterhub: { api_url: 'http://127.0.0.1:8081/hub/api', ...jupyterhub },
    }) as never,
    serviceUser: 'hubapps',
    account: undefined,
    root: true,
    sudoersHint: '',
  });
  beforeEach(async () => {
    tmp = await tmpDir('doctor-hub-names');
    hubConfig = path.join(tmp.path, 'jupyterhub_config.py');
  });
  afterEach(() => tmp.remove());

  it('warns for an authenticator where people choose their name, with usernames: unix', () => {
    for (const line of [
      "c.JupyterHub.authenticator_class = 'nativeauthenticator.NativeAuthenticator'",
      "c.JupyterHub.authenticator_class = 'generic-oauth'",
      'c.JupyterHub.authenticator_class = "dummy"',
    ]) {
      fs.writeFileSync(hubConfig, `c.JupyterHub.bind_url = 'http://127.0.0.1:8000'\n${line}\n`);
      const [r] = checkHubUsernames(context({}), hubConfig);
      assert.equal(r!.status, 'warn', line);
      assert.match(r!.fix!, /jupyterhub\.usernames: mapped/);
    }
  });

  it('passes PAM, a commented-out authenticator, a mapped setup, and says so when the hub config cannot be read', () => {
    fs.writeFileSync(
      hubConfig,
      "# c.JupyterHub.authenticator_class = 'dummy'\nc.JupyterHub.authenticator_class = 'pam'\n",
    );
    assert.equal(checkHubUsernames(context({}), hubConfig)[0]!.status, 'ok');
    fs.writeFileSync(hubConfig, "c.JupyterHub.authenticator_class = 'dummy'\n");
    assert.match(
      checkHubUsernames(
        context({ usernames: 'mapped', username_map: { a: 'alice' } }),
        hubConfig,
      )[0]!.what,
      /username_map gives \(1\)/,
    );
    assert.match(
      checkHubUsernames(context({}), path.join(tmp.path, 'missing.py'))[0]!.what,
      /not read, so its authenticator was not checked/,
    );
  });
});
