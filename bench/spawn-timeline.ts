/**
 * Where a start's time goes, from the records hubapps keeps anyway: the service's events
 * (pending, starting, running, in SQLite) and the proxy's own log lines in the server's
 * log file (listening, starting the app, ready). All timestamps come from the same clock.
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface SpawnTimeline {
  /** POST sent -> first answer of the app through CHP. */
  total: number;
  /** POST -> row 'pending' (authentication, user and app checks, CHP reachable, insert). */
  admit: number;
  /** 'pending' -> 'starting' (port chosen, sudo forked). */
  spawn: number;
  /** 'starting' -> the proxy listens (sudo, Node start-up, the proxy's modules, the catalog read). */
  proxyUp: number;
  /** Proxy listening -> the app's process started. */
  appLaunch: number;
  /** App started -> the proxy saw it answer (the app's own start-up plus the readiness polling). */
  appReady: number;
  /** Ready -> 'running' (the service's health poll noticed, the CHP route was added). */
  routed: number;
  /** 'running' -> the first answer of the app through CHP (the proxy checks the token with the service once). */
  firstAnswer: number;
}

export const TIMELINE_PARTS: (keyof SpawnTimeline)[] = [
  'admit',
  'spawn',
  'proxyUp',
  'appLaunch',
  'appReady',
  'routed',
  'firstAnswer',
];

interface Marks {
  pending: number;
  starting: number;
  running: number;
  listening: number;
  appStarted: number;
  ready: number;
}

export function timelineOf(
  dbFile: string,
  user: string,
  name: string,
  postedAt: number,
  answeredAt: number,
): SpawnTimeline {
  const m = marks(dbFile, user, name);
  return {
    total: answeredAt - postedAt,
    admit: m.pending - postedAt,
    spawn: m.starting - m.pending,
    proxyUp: m.listening - m.starting,
    appLaunch: m.appStarted - m.listening,
    appReady: m.ready - m.appStarted,
    routed: m.running - m.ready,
    firstAnswer: answeredAt - m.running,
  };
}

function marks(dbFile: string, user: string, name: string): Marks {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare('SELECT id, app, log_file FROM servers WHERE user = ? AND name = ?')
      .get(user, name) as { id: number; app: string; log_file: string } | undefined;
    if (!row) throw new Error(`no row for ${user}/${name}`);
    const states = db
      .prepare(`SELECT state, at FROM events WHERE server_id = ? AND kind = 'state' ORDER BY id`)
      .all(row.id) as { state: string; at: string }[];
    const at = (state: string) => {
      const ev = states.findLast((e) => e.state === state);
      if (!ev) throw new Error(`${user}/${name} has no '${state}' event`);
      return Date.parse(ev.at);
    };
    const log = proxyLines(row.log_file);
    const line = (re: RegExp, what: string) => {
      const hit = log.findLast((l) => re.test(l.message));
      if (!hit) throw new Error(`the log of ${user}/${name} has no line for ${what}`);
      return hit.at;
    };
    return {
      pending: at('pending'),
      starting: at('starting'),
      running: at('running'),
      listening: line(/^listening on /, 'listening'),
      appStarted: line(new RegExp(`^starting ${row.app}$`), 'starting the app'),
      ready: line(/^ready after \d+ ms$/, 'ready'),
    };
  } finally {
    db.close();
  }
}

/** "ISO hubapps-proxy: message" lines of a server's log file. */
function proxyLines(file: string): { at: number; message: string }[] {
  const out: { at: number; message: string }[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\S+) hubapps-proxy: (.*)$/.exec(line);
    if (m) out.push({ at: Date.parse(m[1]!), message: m[2]! });
  }
  return out;
}
