/**
 * The promises every launcher keeps, whatever runs the server (a local process, sudo, a
 * Slurm job). The lifecycle relies on these and nothing else. Run for the local launcher
 * in test/integration/launchers/local-launcher.test.ts and for the sudo and slurm launchers in
 * test/system/.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { request } from 'node:http';
import type { Launch, Launcher } from '../../../src/launchers/launcher.js';
import type { StartRequest } from '../../../src/protocol/wire.js';
import { tailLog } from '../../../src/store/server-logs.js';
import { fetchHealth } from '../../../src/launchers/proxy-client.js';
import { waitFor } from '../../helpers/wait.js';

export interface ContractBed {
  /** A new launcher instance, as a freshly (re)started service builds one. */
  launcher(): Launcher;
  /** A start request for a ready-to-serve app of this bed, as server `serverId`. */
  spec(serverId: number): Promise<StartRequest>;
  /** Where the launched server's output goes. */
  logFile: string;
  /** How long a start may take to become ready here (a queue adds time). */
  readyMs: number;
  /** Whether this bed's proxies listen on a unix socket, on TCP on this host (their listener's owner can be checked) or on another host. */
  listener: 'socket' | 'local' | 'remote';
  /** Kill the app's process behind the proxy's back (as its owner or root can). */
  killApp(appPid: number, launch: Launch): Promise<void>;
}

/** GET path at a CHP route target (http:// or http+unix://) as a browser would ask, following nothing. */
function statusOf(target: string, path: string): Promise<number> {
  const unix = /^http\+unix:\/\/([^/]+)$/.exec(target);
  const where = unix
    ? { socketPath: decodeURIComponent(unix[1]!) }
    : { host: new URL(target).hostname, port: Number(new URL(target).port) };
  return new Promise((resolve, reject) => {
    request(
      { ...where, path, agent: false, headers: { accept: 'text/html', host: 'localhost' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    )
      .on('error', reject)
      .end();
  });
}

/** What a launch shows of itself: its identity, process and saved state. */
function seen(l: Launch) {
  return { ...refOf(l), pid: l.pid, saved: l.save() };
}

function refOf(l: Launch) {
  return { serverId: l.serverId, user: l.user, port: l.port, kind: l.kind };
}

/** `socketProxies`: the bed's proxies listen on unix sockets, which adds the promises about their socket files. */
export function launcherContract(
  title: string,
  makeBed: () => ContractBed,
  opts: { socketProxies?: boolean } = {},
): void {
  describe(`launcher contract: ${title}`, function () {
    let bed: ContractBed;
    let launcher: Launcher;
    let nextId = 900_000 + Math.floor(Math.random() * 1000) * 10;
    const live: Launch[] = [];

    const startReady = async () => {
      const spec = await bed.spec(nextId++);
      const launch = await launcher.start(spec, bed.logFile);
      live.push(launch);
      const probe = await waitFor(
        async () => {
          const p = await launch.probe();
          return p.report?.state === 'ready' ? p : null;
        },
        { timeout: bed.readyMs, interval: 100, what: `server ${spec.server.id} to be ready` },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n--- its log ---\n${tailLog(bed.logFile, 15).join('\n')}`);
      });
      launch.observe(probe.report!);
      return { spec, launch, report: probe.report! };
    };

    before(function () {
      bed = makeBed();
      launcher = bed.launcher();
    });
    after(async () => {
      for (const l of live) await l.stop({ graceMs: 500 }).catch(() => undefined);
    });

    it('start resolves with a launch of its own kind whose saved state restores to an equal launch', async () => {
      const { spec, launch } = await startReady();
      assert.equal(launch.kind, launcher.kind);
      const saved = launch.save();
      assert.equal(typeof saved, 'string');
      const restored = bed.launcher().restore(
        {
          serverId: launch.serverId,
          user: launch.user,
          port: launch.port,
          secret: spec.secret,
          kind: launch.kind,
        },
        saved,
      );
      assert.deepEqual(seen(restored), seen(launch));
    });

    it('the started server answers probe as this server, and CHP can reach it at routeTarget', async () => {
      const { spec, launch, report } = await startReady();
      assert.equal(report.serverId, spec.server.id);
      const target = launch.routeTarget();
      assert.ok(target, 'no route target for a ready server');
      // The proxy sends a browser without its cookie to the launcher's authorize page.
      assert.equal(await statusOf(target, spec.prefix), 302);
    });

    it("the running server's proxy target is where CHP is routed, and a listener on this host gets no call unless it is the user's", async () => {
      const { launch } = await startReady();
      const target = await launch.target();
      assert.ok(target, 'no proxy target for a ready server');
      assert.equal((await fetchHealth(target)).ok, true);
      if ('socket' in target) {
        assert.equal(bed.listener, 'socket');
        assert.equal(launch.routeTarget(), `http+unix://${encodeURIComponent(target.socket)}`);
        assert.equal(
          statSync(target.socket).mode & 0o777,
          0o660,
          "only the owner and the socket directory's group may connect",
        );
        const other = await fetchHealth({ ...target, uid: target.uid + 1 });
        assert.equal(other.ok, false);
        assert.match(other.ok ? '' : other.error, /does not belong to uid/);
        return;
      }
      assert.equal(target.listener, bed.listener);
      assert.equal(launch.routeTarget(), `http://${target.host ?? '127.0.0.1'}:${target.port}`);
      if (target.listener === 'local') {
        const other = await fetchHealth({ ...target, uid: target.uid + 1 });
        assert.equal(other.ok, false);
        assert.match(other.ok ? '' : other.error, /does not belong to uid/);
      }
    });

    it('a new launcher instance loading the saved state re-adopts the server: it answers, and stop ends it', async () => {
      const { spec, launch } = await startReady();
      const fresh = bed.launcher();
      const restored = fresh.restore({ ...refOf(launch), secret: spec.secret }, launch.save());
      const probe = await restored.probe();
      assert.deepEqual([probe.answering, probe.launched], [true, true]);
      assert.equal(probe.report?.serverId, launch.serverId);
      await restored.stop({ graceMs: 1000 });
      const after = await restored.probe();
      assert.deepEqual([after.answering, after.alive], [false, false]);
    });

    if (opts.socketProxies)
      it('a proxy on a socket frees its path only when told its route is removed', async () => {
        const told = await startReady();
        const toldAt = (await told.launch.target()) as { socket: string };
        await told.launch.stop({ graceMs: 1000, routeRemoved: true });
        assert.equal(
          existsSync(toldAt.socket),
          false,
          'the socket file of a proxy stopped after its route went is removed',
        );
        const kept = await startReady();
        const keptAt = (await kept.launch.target()) as { socket: string };
        await kept.launch.stop({ graceMs: 1000 });
        assert.equal(
          existsSync(keptAt.socket),
          true,
          'a proxy that may still be routed keeps its path, so nobody else can bind it',
        );
        await kept.launch.kill();
        assert.equal(
          existsSync(keptAt.socket),
          false,
          'the clean-up as the user removes the kept socket file',
        );
      });

    it('stop leaves nothing that probes alive, and stopping again is harmless', async () => {
      const { launch } = await startReady();
      await launch.stop({ graceMs: 1000 });
      const probe = await launch.probe();
      assert.deepEqual([probe.answering, probe.alive, probe.launched], [false, false, false]);
      await launch.stop({ graceMs: 500 });
      await launch.kill();
    });

    it('a server whose app is killed ends on its own and then probes as gone', async () => {
      const { launch, report } = await startReady();
      await bed.killApp(report.appPid!, launch);
      await waitFor(async () => !(await launch.probe()).alive, {
        timeout: bed.readyMs,
        interval: 200,
        what: 'the server to end after its app died',
      });
      await launch.kill();
    });

    it('a launch of a server that never ran probes as gone and stops without error', async () => {
      const ghost = launcher.restore(
        {
          serverId: nextId++,
          user: (await bed.spec(0)).server.user,
          port: 1,
          secret: 'x'.repeat(43),
          kind: launcher.kind,
        },
        null,
      );
      const probe = await ghost.probe();
      assert.deepEqual([probe.answering, probe.alive], [false, false]);
      await ghost.stop({ graceMs: 200 });
    });
  });
}
