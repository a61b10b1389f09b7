/**
 * The proxy's parts for the user's own ports, built from the start request when it
 * enables them (StartRequest.ports); nothing at all when it does not, so those paths stay
 * the app's.
 */
import type { StartRequest } from '../../protocol/wire.js';
import type { Access } from '../access/gate.js';
import { REVALIDATE_MS } from '../access/session-check.js';
import { serverMarks } from '../app/marks.js';
import type { Activity } from '../http/activity.js';
import type { Forwarder } from '../http/forward.js';
import type { ListenerDeps } from '../http/http-server.js';
import type { OriginPolicy } from '../http/origin.js';
import type { ProxyStatus } from '../status.js';
import { ProcListenerFacts } from './listener-check.js';
import { listPorts } from './listing.js';
import type { OwnPorts } from './policy.js';
import { PortAccess } from './port-access.js';
import { PortRequests } from './port-requests.js';

export interface PortWiring {
  access: Access;
  origins: OriginPolicy;
  activity: Activity;
  status: ProxyStatus;
  forwarderClass: () => typeof Forwarder | null;
  launcher: string;
}

export function portParts(
  req: StartRequest,
  w: PortWiring,
): Pick<ListenerDeps, 'ports' | 'portListing'> {
  const policy = req.ports;
  if (policy === undefined) return {};
  const marks = serverMarks(req.server.id, process.pid);
  const ownPorts = (): OwnPorts => {
    const target = w.status.appTarget;
    const app = target !== null && 'port' in target ? target.port : req.appPort;
    return {
      ...(req.socket === undefined ? { proxy: req.port } : {}),
      ...(app === undefined ? {} : { app }),
    };
  };
  const revalidateMs = req.revalidateMs ?? REVALIDATE_MS;
  const portAccess = new PortAccess({
    serverId: req.server.id,
    secret: req.secret,
    serviceUrl: req.serviceUrl,
    revalidateMs,
  });
  return {
    ports: (refused) =>
      new PortRequests({
        request: { ...req, ports: policy },
        access: w.access,
        origins: w.origins,
        activity: w.activity,
        portAccess,
        revalidateMs,
        facts: new ProcListenerFacts(marks),
        uid: process.getuid?.() ?? -1,
        ownPorts,
        forwarderClass: w.forwarderClass,
        page: { launcher: w.launcher },
        refused,
      }),
    portListing: () => {
      const own = ownPorts();
      return listPorts(
        marks,
        [own.proxy, own.app].filter((p): p is number => p !== undefined),
      );
    },
  };
}
