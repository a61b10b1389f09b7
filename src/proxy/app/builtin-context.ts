/** What the proxy hands a built-in app when it starts it (builtin.ts); the apps under src/apps/ implement against this. */
import type { LaunchPlan } from './launch-plan.js';

export interface BuiltinContext {
  plan: LaunchPlan;
  /** Path prefix of the requests the app receives: '/' when the proxy strips the server's prefix, else the prefix. */
  base: string;
  /** The app's title from the catalog. */
  title: string;
  /** Public URL of the launcher, for links back. */
  launcher: string;
  log: (message: string) => void;
  /** Told the pid of the app's main process once there is one. */
  onPid: (pid: number) => void;
}
