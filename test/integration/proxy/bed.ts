import { echoApp } from './apps.js';
import {
  Catalog,
  startFakeService,
  startProxy,
  type FakeService,
  type RunningProxy,
} from '../../unit/proxy/harness.js';

/** A catalog holding the echo app and a fake service answering the proxy's checks: what most proxy suites start from. */
export interface ProxyBed {
  catalog: Catalog;
  service: FakeService;
}

export async function startBed(echo: { websocket?: boolean } = {}): Promise<ProxyBed> {
  const catalog = await Catalog.create();
  const service = await startFakeService();
  echoApp(catalog, 'echo', echo);
  return { catalog, service };
}

/** The bed plus one running proxy in front of the echo app, ready. */
export async function startEchoProxy(
  echo: { websocket?: boolean } = {},
): Promise<ProxyBed & { proxy: RunningProxy }> {
  const bed = await startBed(echo);
  const proxy = await startProxy({ catalog: bed.catalog, app: 'echo', service: bed.service });
  await proxy.ready();
  return { ...bed, proxy };
}

/** Undo either; a service a test already closed is fine. */
export async function tearDown(parts: {
  catalog?: Catalog;
  service?: FakeService;
  proxy?: RunningProxy;
}): Promise<void> {
  await parts.proxy?.kill();
  await parts.service?.close().catch(() => undefined);
  await parts.catalog?.remove();
}
