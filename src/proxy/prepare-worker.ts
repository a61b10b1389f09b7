/**
 * Worker thread body for prepare.ts: reads the app file and plans the launch. yaml and
 * zod load only in this short-lived isolate, so the long-running proxy never holds them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HubappsError } from '../errors.js';
import { loadAppFile } from './app/app-file.js';
import { planLaunch, type Account } from './app/launch-plan.js';
import type { StartRequest } from '../protocol/wire.js';
import type { PrepareInput, PrepareOutput } from './prepare.js';

async function prepare(input: PrepareInput): Promise<PrepareOutput> {
  try {
    const app = await loadAppFile(input.catalogDir, input.request.app);
    const plan = await planLaunch(app, input.request as StartRequest, input.account as Account);
    return { ok: true, app, plan };
  } catch (err) {
    const code = err instanceof HubappsError ? err.code : 'internal';
    return { ok: false, code, message: err instanceof Error ? err.message : String(err) };
  }
}

void prepare(workerData as PrepareInput).then((out) => parentPort!.postMessage(out));
