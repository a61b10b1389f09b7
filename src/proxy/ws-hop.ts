/**
 * A WebSocket (any HTTP upgrade) to the app as a plain socket pipe: the prepared
 * handshake is written to a fresh connection and from then on bytes flow both ways
 * untouched, the app's own answer to the handshake included. Frames are not parsed;
 * every chunk in either direction counts as activity.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AppTarget } from './launch-plan.js';

export type UpgradeError = (err: Error, req: IncomingMessage, socket: Socket) => void;

export function pipeUpgrade(target: AppTarget, req: IncomingMessage, client: Socket, head: Buffer, touch: () => void, onError: UpgradeError): void {
  const app = 'port' in target ? connect(target.port, '127.0.0.1') : connect(target.socket);
  let open = false;
  app.once('connect', () => {
    open = true;
    app.setNoDelay(true);
    client.setNoDelay(true);
    client.setTimeout(0);
    app.write(handshake(req));
    if (head.length > 0) app.write(head);
    client.on('data', touch);
    app.on('data', touch);
    client.pipe(app);
    app.pipe(client);
  });
  app.on('error', (err) => {
    if (open) client.destroy();
    else onError(err, req, client);
  });
  app.on('close', () => client.destroy());
  client.on('close', () => app.destroy());
}

/** The request line and headers as the app should receive them. */
function handshake(req: IncomingMessage): string {
  let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) text += `${name}: ${v}\r\n`;
    else text += `${name}: ${value}\r\n`;
  }
  return `${text}\r\n`;
}
