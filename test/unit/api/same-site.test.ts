import assert from 'node:assert/strict';
import { sharingRefusal } from '../../../src/api/server-access.js';
import type { ApiDeps } from '../../../src/api/deps.js';

/** Only what sharingRefusal reads: the layout, the hub's origin, the sharing keys and the catalog. */
function deps(hub: string, appsDomain: string, sameSiteAllowed = false): ApiDeps {
  return {
    urls: { hostLayout: true, publicOrigin: hub },
    config: { sharing: true, apps_domain: appsDomain, sharing_same_site: sameSiteAllowed },
    catalog: () => ({ get: () => undefined }),
  } as unknown as ApiDeps;
}
const row = { app: 'lab', user: 'alice', name: 'lab' };

describe('sharing when the hub and the apps share a registrable domain', () => {
  it('is refused, naming sharing_same_site, unless the admin accepts it', () => {
    const refusal = sharingRefusal(deps('https://hub.example.org', 'apps.example.org'), row);
    assert.equal(refusal?.status, 403);
    assert.match(refusal!.message, /share a registrable domain.*sharing_same_site: true/);
    assert.equal(
      sharingRefusal(deps('https://hub.example.org', 'apps.example.org', true), row),
      null,
    );
  });

  it('is allowed with the apps on their own registrable domain', () => {
    assert.equal(sharingRefusal(deps('https://hub.example.org', 'apps-example.org'), row), null);
  });
});
