/**
 * A proxy in a Slurm job on a compute node: CHP on the hub host must reach it, so it
 * listens on every interface at a port the kernel picks, then tells the service where
 * (signed with the server's secret, which does not cross the network). Access to the app is still enforced by the
 * proxy itself, as on the hub host.
 */
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { HubappsError } from '../../errors.js';
import { log, describeError } from '../log.js';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SERVICE_ANNOUNCE_PATH,
  type AnnounceRequest,
  type StartRequest,
} from '../../protocol/wire.js';
import { postToService } from '../access/service-call.js';

/** Enough for the service to record the job it has just submitted (it answers 409 until then). */
const ATTEMPTS = 8;

export async function listenOnNode(server: Server, req: StartRequest): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '0.0.0.0', port: 0 }, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const host = process.env.SLURMD_NODENAME || hostname().split('.')[0]!;
  const announce: AnnounceRequest = {
    serverId: req.server.id,
    host,
    port,
    runId: process.env.SLURM_JOB_ID ?? '',
  };
  const url = new URL(SERVICE_ANNOUNCE_PATH, req.serviceUrl);
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await postToService(url, req.secret, announce, true);
      if (answer.status === 200) return `${host}:${port}`;
      if (answer.status === 409 && attempt < ATTEMPTS) {
        await sleep(300 * attempt);
        continue;
      }
      throw new HubappsError(
        'announce_refused',
        `the service refused this job's address (HTTP ${answer.status}): ${answer.body.slice(0, 300)}`,
      );
    } catch (err) {
      if (err instanceof HubappsError || attempt >= ATTEMPTS) {
        throw err instanceof HubappsError
          ? err
          : new Error(
              `cannot reach the service at ${url.origin} from this node: ${describeError(err)}; set slurm.service_url`,
            );
      }
      log(`announcing ${host}:${port} failed (${describeError(err)}); retrying`);
      await sleep(500 * attempt);
    }
  }
}
