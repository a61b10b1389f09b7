import { JUPYTERHUB_CONFIG } from '../install/layout.js';
import { readIfExists } from '../install/site.js';
import { type CheckResult, type DoctorContext, ok, warn } from './check.js';

/**
 * Authenticators where people choose the name they log in with: self-signup, an OAuth
 * provider's user name, anyone-is-anyone test authenticators. With jupyterhub.usernames:
 * unix such a name becomes the Unix account of that name.
 */
const SELF_NAMED: Array<[RegExp, string]> = [
  [/NativeAuthenticator|['"]native['"]/, 'NativeAuthenticator (self-signup)'],
  [
    /OAuthenticator|['"](generic|github|gitlab|google|azuread|bitbucket|globus|cilogon|auth0|openshift|mediawiki)(-oauth)?['"]/,
    'an OAuthenticator (names from the provider)',
  ],
  [/DummyAuthenticator|['"]dummy['"]/, 'DummyAuthenticator (any name, any password)'],
  [
    /FirstUseAuthenticator|['"]firstuse['"]/,
    'FirstUseAuthenticator (the first password sets the account)',
  ],
  [/TmpAuthenticator|['"]tmp['"]/, 'TmpAuthenticator (made-up names)'],
  [
    /LTI1[13]Authenticator|['"]lti1[13]['"]/,
    'an LTI authenticator (names from the learning platform)',
  ],
];

/** jupyterhub.usernames: unix is safe only with an authenticator that logs people in as their own Unix account. */
export function checkHubUsernames(
  ctx: DoctorContext,
  hubConfig = JUPYTERHUB_CONFIG,
): CheckResult[] {
  const hub = ctx.settings?.jupyterhub;
  if (!hub?.api_url) return [];
  if (hub.usernames === 'mapped') {
    return [
      ok(
        `JupyterHub users act as the Unix accounts jupyterhub.username_map gives (${Object.keys(hub.username_map).length}); others are refused`,
      ),
    ];
  }
  let text: string | undefined;
  try {
    text = readIfExists(hubConfig);
  } catch {
    text = undefined;
  }
  if (text === undefined)
    return [
      ok(
        `JupyterHub user names are taken as Unix accounts (jupyterhub.usernames: unix); ${hubConfig} not read, so its authenticator was not checked`,
      ),
    ];
  const code = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
  const found = SELF_NAMED.find(([pattern]) => pattern.test(code));
  if (!found)
    return [
      ok(
        `JupyterHub user names are taken as Unix accounts (jupyterhub.usernames: unix), and ${hubConfig} names no authenticator where people choose their name`,
      ),
    ];
  return [
    warn(
      `${hubConfig} uses ${found[1]}, where people choose the name they log in with, and hubapps takes that name as the Unix account (jupyterhub.usernames: unix): whoever signs up as an account's name acts as that account`,
      'set jupyterhub.usernames: mapped with a jupyterhub.username_map of the hub users who may use hubapps (docs/jupyterhub.md), or log in through PAM or LDAP',
    ),
  ];
}
