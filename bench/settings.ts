/**
 * How long and how many: the full run behind docs/benchmarks.md, and --quick, which
 * exercises every benchmark in well under a minute (its figures are indicative only).
 */
import type { HopOptions } from './hop-section.js';
import type { PortsOptions } from './ports-section.js';

export interface Settings {
  hop: HopOptions;
  ports: PortsOptions;
  demo: { starts: number };
  guard: { rounds: number; seconds: number };
  spawn: { sequential: number; concurrent: number; burst: number; sudoRuns: number };
  scale: {
    servers: number;
    memoryAt: number;
    startBatch: number;
    listCalls: number;
    startStopCalls: number;
    reconcileWaitS: number;
    reconcileIntervalS: number;
  };
}

export function settingsFor(quick: boolean): Settings {
  return {
    hop: {
      rounds: quick ? 1 : 5,
      seconds: quick ? 1 : 5,
      wsSeconds: quick ? 0.5 : 3,
      warmSeconds: quick ? 0 : 2,
      connections: [1, 32],
      wsConnections: 32,
      idleWaitS: quick ? 5 : 30,
      withToken: !quick,
      withJsp: true,
      warmupRequests: 100,
    },
    ports: {
      rounds: quick ? 1 : 3,
      seconds: quick ? 1 : 5,
      wsSeconds: quick ? 0.5 : 3,
      warmSeconds: quick ? 0 : 2,
      connections: [1, 32],
      wsConnections: 32,
      closeConnections: 8,
      closeRounds: quick ? 1 : 2,
      closeSeconds: quick ? 1 : 3,
    },
    demo: { starts: quick ? 3 : 20 },
    guard: { rounds: quick ? 1 : 5, seconds: quick ? 1 : 5 },
    spawn: quick
      ? { sequential: 3, concurrent: 3, burst: 5, sudoRuns: 3 }
      : { sequential: 50, concurrent: 20, burst: 100, sudoRuns: 20 },
    scale: quick
      ? {
          servers: 10,
          memoryAt: 5,
          startBatch: 5,
          listCalls: 30,
          startStopCalls: 3,
          reconcileWaitS: 3,
          reconcileIntervalS: 2,
        }
      : {
          servers: 1000,
          memoryAt: 200,
          startBatch: 20,
          listCalls: 200,
          startStopCalls: 20,
          reconcileWaitS: 30,
          reconcileIntervalS: 10,
        },
  };
}
