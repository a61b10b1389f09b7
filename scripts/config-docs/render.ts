import { type Placeholder, appSchema } from '../../src/catalog/types.js';
import { keyTable } from './key-table.js';
import { FORM_FIELD_TYPES } from '../../src/catalog/form.js';
import { configSchema } from '../../src/config/schema.js';

/** An example service configuration; the unit tests load it, so it stays valid. */
export const EXAMPLE_CONFIG = `# /etc/hubapps/hubapps.yaml
public_url: https://hub.example.org
allowed_group: hubapps-users
chp:
  api_url: http://127.0.0.1:8001
  auth_token: env:CONFIGPROXY_AUTH_TOKEN
admin_token: credential:admin-token
port_range: {min: 20000, max: 20999}
log_level: info
`;

/** An example app file; the unit tests load it as a catalog, so it stays valid. */
export const EXAMPLE_APP = `# /etc/hubapps/apps.d/rstudio.yaml
title: RStudio
description: R IDE in the browser
command: [/usr/lib/rstudio-server/bin/rserver, "--www-port={port}", "--www-root-path={base_url}"]
environment:
  R_LIBS_USER: "{home}/R/library"
ready: {path: /, timeout: 60}
strip_prefix: true
idle_timeout: 3600
allowed_groups: []
`;

const PLACEHOLDER_MEANINGS: Record<Placeholder, string> = {
  port: 'The loopback TCP port the app must listen on (127.0.0.1).',
  unix_socket:
    'Path of a Unix socket in a private (0700) per-user directory; apps that can listen on one are not reachable by other local users.',
  base_url: "The server's path on the public URL, e.g. `/apps/alice/rstudio/`.",
  user: "The user's Unix account name.",
  server: "The server's name (a user may run several servers of one app).",
  home: "The user's home directory (also the app's working directory).",
};

/** docs/configuration.md, generated from the config and app schemas (scripts/gen-config-docs.ts writes it). */
export function renderConfigDocs(): string {
  return `${[
    '# Configuration',
    '<!-- Generated from src/config/schema.ts and src/catalog/types.ts by scripts/gen-config-docs.ts (npm run docs). Do not edit by hand. -->',
    'hubapps reads two kinds of files: the service configuration `/etc/hubapps/hubapps.yaml` and the app catalog, one file per app in `/etc/hubapps/apps.d/`. ' +
      'Check both with `hubapps check-config`: it lists every problem, each with its file and key.',
    '## Secrets',
    'Secrets never appear in `hubapps.yaml` itself. A key holding a secret takes a reference instead:\n\n' +
      '| Reference | Resolves to |\n|---|---|\n' +
      '| `env:NAME` | the environment variable `NAME` (e.g. from `EnvironmentFile=` in the systemd unit) |\n' +
      '| `file:/path` | the first line of the file, without surrounding white space; the file must exist |\n' +
      '| `credential:NAME` | the file `$CREDENTIALS_DIRECTORY/NAME`, provided by systemd `LoadCredential=NAME:/path` |\n\n' +
      'A reference that cannot be resolved (variable unset or empty, file missing) stops the service with an error naming the key.',
    '## Example hubapps.yaml',
    fence('yaml', EXAMPLE_CONFIG),
    '## Service configuration (hubapps.yaml)',
    'Every key is optional. An empty file means all defaults; unknown keys are errors.',
    keyTable(configSchema),
    '## App files (apps.d/NAME.yaml)',
    "Each `NAME.yaml` (or `NAME.yml`) in `catalog_dir` defines one app; `NAME` is the app's name and follows the server-name rule " +
      '(1-63 characters `a-z 0-9 . _ -`, starting with a letter or digit). Files whose name starts with `.` are ignored. ' +
      'The running service notices changes within a second: it keeps the apps whose files are valid and logs the files that are not.',
    fence('yaml', EXAMPLE_APP),
    keyTable(appSchema),
    '### Placeholders',
    '`command` entries and `environment` values may contain these placeholders. Write `{{` and `}}` for literal braces; ' +
      'any other brace, or an unknown placeholder, is an error.\n\n' +
      '| Placeholder | Meaning |\n|---|---|\n' +
      Object.entries(PLACEHOLDER_MEANINGS)
        .map(([name, meaning]) => `| \`{${name}}\` | ${meaning} |`)
        .join('\n') +
      '\n| `{form.NAME}` | The value of the launch form field NAME (below), inside this one argument. |',
    '### Launch form fields',
    'Each entry of `form` is one field, `NAME: {type: TYPE, ...}`; NAME is a lower-case letter, then lower-case letters, digits and `_`. ' +
      'The keys of each type:',
    ...Object.entries(FORM_FIELD_TYPES).flatMap(([type, schema]) => [
      `#### \`type: ${type}\``,
      keyTable(schema),
    ]),
  ].join('\n\n')}\n`;
}

function fence(lang: string, text: string): string {
  return `\`\`\`${lang}\n${text.trimEnd()}\n\`\`\``;
}
