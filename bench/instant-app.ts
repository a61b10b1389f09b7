/**
 * An app that is ready at once, for spawn and scale benchmarks: a few lines of Python on
 * Debian's interpreter (-I -S: no site packages, starts in ~20 ms) that answer every
 * request with "ok" and close the connection. Its own start-up is as small as an app's
 * can be, so the spawn figures are hubapps' own cost. Written without braces, which are
 * placeholder syntax in the catalog.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../src/net/ports.js';
import { median } from './stats.js';

export const INSTANT_APP_SOURCE = `import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    try:
        c.settimeout(5)
        d = b''
        while b'\\r\\n\\r\\n' not in d:
            x = c.recv(4096)
            if not x:
                break
            d += x
        c.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-type: text/plain\\r\\ncontent-length: 16\\r\\nconnection: close\\r\\n\\r\\nhubapps-bench-ok')
    except OSError:
        pass
    c.close()
`;

/** What the app answers: how a benchmark knows a response came from the app and not from a hubapps page. */
export const INSTANT_APP_BODY = 'hubapps-bench-ok';

/** The catalog entry (apps.d/NAME.yaml as an object). */
export function instantApp(title = 'Instant'): object {
  return {
    title,
    command: ['/usr/bin/python3', '-I', '-S', '-c', INSTANT_APP_SOURCE, '{port}'],
    ready: { timeout: 20 },
  };
}

/**
 * The app's own start-up, measured without hubapps: started directly, its port polled
 * every millisecond until it accepts. Median of `runs`, ms. Spawn figures "without the
 * app's start-up" subtract this.
 */
export async function instantAppStartupMs(runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const port = await freePort('127.0.0.1');
    const t0 = performance.now();
    const child = spawn('/usr/bin/python3', ['-I', '-S', '-c', INSTANT_APP_SOURCE, String(port)], {
      stdio: 'ignore',
    });
    try {
      while (!(await accepts(port))) {
        if (performance.now() - t0 > 10_000)
          throw new Error('the instant app did not listen within 10 s');
        await sleep(1);
      }
      times.push(performance.now() - t0);
    } finally {
      child.kill('SIGKILL');
    }
  }
  return median(times);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
