/** The host-wide environment of every app: hubapps.yaml `environment` and `env_keep`. */
import { z } from 'zod';
import { refusedEnvName, refusedEnvValue, refusedKeptName } from '../protocol/app-env.js';

export const environmentSchema = z
  .record(z.string(), z.string())
  .superRefine((vars, ctx) => {
    for (const [name, value] of Object.entries(vars)) {
      const why = refusedEnvName(name) ?? refusedEnvValue(value);
      if (why) ctx.addIssue({ code: 'custom', path: [name], message: why });
    }
  })
  .default({})
  .describe(
    'Environment variables set for every app, as NAME: value (literal text, no placeholders). An app file\'s own environment overrides them; the JUPYTERHUB_* and HUBAPPS_* variables hubapps sets, and HOME, USER and LOGNAME, cannot be set here (docs/apps.md, "The app\'s environment").',
  );

export const envKeepSchema = z
  .array(
    z.string().superRefine((name, ctx) => {
      const why = refusedKeptName(name);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    }),
  )
  .default([])
  .describe(
    "Names of variables copied from the service's own environment (its systemd unit's Environment=, say) into every app's, when the service has them: e.g. [http_proxy, https_proxy, no_proxy]. They override environment; an app file's environment overrides them. Refused: the names environment refuses, PATH, SHELL, LD_*, NODE_*, CONFIGPROXY_*, and systemd's and sudo's own variables.",
  );
