/**
 * Reading the app from the catalog and planning its launch (argv, environment, target).
 * The compiled form that check-config writes (src/catalog/compiled-form.ts) is read in
 * place; without a trustworthy one, the YAML file is read and validated in a worker
 * thread that ends right after: the parser and schema libraries it needs would otherwise
 * stay in the memory of every running proxy.
 */
import { Worker } from 'node:worker_threads';
import { readCompiledApp } from '../catalog/compiled-form.js';
import type { CatalogApp } from '../catalog/types.js';
import { HubappsError } from '../errors.js';
import { planLaunch, type Account, type LaunchPlan } from './app/launch-plan.js';
import type { StartRequest } from '../protocol/wire.js';

export interface PrepareInput {
  catalogDir: string;
  /** The start request without its secret: the worker does not need it. */
  request: Omit<StartRequest, 'secret'>;
  account: Account;
}

export type PrepareOutput =
  { ok: true; app: CatalogApp; plan: LaunchPlan } | { ok: false; code: string; message: string };

export async function prepareLaunch(
  catalogDir: string,
  request: StartRequest,
  account: Account,
): Promise<PrepareOutput> {
  const app = readCompiledApp(catalogDir, request.app);
  if (app === null) return inWorker(catalogDir, request, account);
  try {
    return { ok: true, app, plan: await planLaunch(app, request, account) };
  } catch (err) {
    return {
      ok: false,
      code: err instanceof HubappsError ? err.code : 'internal',
      message: err instanceof Error ? err.message : String(err),
    };
  }
}

function inWorker(
  catalogDir: string,
  request: StartRequest,
  account: Account,
): Promise<PrepareOutput> {
  const { secret: _secret, ...withoutSecret } = request;
  const input: PrepareInput = { catalogDir, request: withoutSecret, account };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./prepare-worker.js', import.meta.url), {
      workerData: input,
    });
    worker.once('message', (out: PrepareOutput) => {
      resolve(out);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the catalog reader stopped with code ${code}`)),
    );
  });
}
