/**
 * hubapps-proxy: the program sudo runs as the user. `node main.js --catalog-dir DIR
 * [--expect-user-check --allowed-group G [--min-uid N]]` reads one ProxyRequest (JSON)
 * from stdin. The catalog directory and the policy come only from argv, set by the
 * root-owned wrapper: the service, which writes stdin, is trusted less than the catalog.
 * With --expect-user-check (the installed wrapper, i.e. started through sudo) the proxy
 * checks itself before it does anything (self-check.ts). The 'start' op and its modules
 * are imported only when needed so 'version' and 'stop' start fast.
 */
import { unlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { HubappsError } from '../errors.js';
import { PROTOCOL_VERSION, PROXY_EXIT, type ProxyRequest } from '../protocol/wire.js';
import { proxyArgs, proxyCommandLine } from './command-line.js';
import { parseRequest, readRequestText } from './request.js';
import { describeError, log } from './log.js';
import { checkCatalogFile, checkRunAs, processIdentity, type RunAsPolicy } from './self-check.js';

interface Args {
  catalogDir: string | undefined;
  expectUserCheck: boolean;
  /** Set with --expect-user-check: who the proxy may run as. */
  policy: RunAsPolicy | undefined;
}

const USAGE =
  'usage: hubapps-proxy --catalog-dir DIR [--expect-user-check --allowed-group GROUP [--min-uid N]] < request.json';

function parseArguments(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      'catalog-dir': { type: 'string' },
      'expect-user-check': { type: 'boolean', default: false },
      'allowed-group': { type: 'string' },
      'min-uid': { type: 'string', default: '1000' },
    },
    strict: true,
    allowPositionals: false,
  });
  const expectUserCheck = values['expect-user-check'] ?? false;
  if (!expectUserCheck)
    return { catalogDir: values['catalog-dir'], expectUserCheck, policy: undefined };
  const minUid = Number(values['min-uid']);
  if (!Number.isInteger(minUid) || minUid < 1)
    throw new Error(`--min-uid must be a whole number of at least 1, not '${values['min-uid']}'`);
  if (!values['allowed-group'])
    throw new Error(
      '--expect-user-check needs --allowed-group GROUP (the installed wrapper passes it)',
    );
  return {
    catalogDir: values['catalog-dir'],
    expectUserCheck,
    policy: { minUid, allowedGroup: values['allowed-group'] },
  };
}

function exit(code: number, message: string): never {
  log(message);
  process.exit(code);
}

/** The sudo-mode checks; a refusal ends the proxy before it runs anything. */
function selfCheck(request: ProxyRequest, args: Args, user: string): void {
  if (!args.policy) return;
  const start =
    request.op === 'start' ? request : request.op === 'slurm-submit' ? request.start : undefined;
  if (start && user !== start.server.user) {
    exit(
      PROXY_EXIT.wrongUser,
      `this proxy runs as '${user}' but the request is for '${start.server.user}': refused`,
    );
  }
  try {
    checkRunAs(processIdentity(user), args.policy);
    if (start && args.catalogDir) checkCatalogFile(args.catalogDir, start.app);
  } catch (err) {
    exit(PROXY_EXIT.refused, err instanceof HubappsError ? err.message : describeError(err));
  }
}

async function dispatch(request: ProxyRequest, args: Args, user: string): Promise<void> {
  selfCheck(request, args, user);
  switch (request.op) {
    case 'version':
      process.stdout.write(
        `${JSON.stringify({ protocol: PROTOCOL_VERSION, node: process.version, user })}\n`,
      );
      return process.exit(PROXY_EXIT.ok);
    case 'stop': {
      const { runStop } = await import('./stop.js');
      return process.exit(await runStop(request));
    }
    case 'slurm-status':
    case 'slurm-cancel': {
      const { runSlurmJob } = await import('./node/slurm-jobs.js');
      return process.exit(await runSlurmJob(request));
    }
    case 'slurm-submit': {
      if (!args.catalogDir)
        exit(
          PROXY_EXIT.badRequest,
          'slurm-submit needs --catalog-dir DIR (the installed wrapper passes it)',
        );
      const { runSlurmSubmit } = await import('./node/slurm-jobs.js');
      // The job's proxy on a compute node is this program with the same catalog and checks.
      const self = proxyCommandLine(proxyArgs(args.catalogDir, args.policy), {
        main: process.argv[1]!,
      });
      return process.exit(await runSlurmSubmit(request, args.catalogDir, self));
    }
    case 'start': {
      if (!args.catalogDir)
        exit(
          PROXY_EXIT.badRequest,
          'start needs --catalog-dir DIR (the installed wrapper passes it)',
        );
      if (request.node) await forgetJobSpec(request.node.specFile);
      const { runStart, ProxyExit } = await import('./supervisor.js');
      try {
        await runStart(request, args.catalogDir);
      } catch (err) {
        if (err instanceof ProxyExit) exit(err.exitCode, err.message);
        throw err;
      }
    }
  }
}

/** A job's proxy has read its request: the file with the secret goes at once. */
async function forgetJobSpec(file: string): Promise<void> {
  const { isJobSpec } = await import('./node/slurm-dir.js');
  if (!isJobSpec(userInfo().homedir, file))
    exit(PROXY_EXIT.badRequest, `node.specFile ${file} is not in ~/.hubapps/slurm: refused`);
  try {
    unlinkSync(file);
  } catch (err) {
    log(`could not delete the job's request ${file}: ${describeError(err)}`);
  }
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (err) {
    exit(PROXY_EXIT.badRequest, `${(err as Error).message}; ${USAGE}`);
  }
  let request: ProxyRequest;
  try {
    request = parseRequest(await readRequestText(process.stdin));
    process.stdin.destroy();
  } catch (err) {
    exit(PROXY_EXIT.badRequest, err instanceof HubappsError ? err.message : describeError(err));
  }
  await dispatch(request, args, userInfo().username);
}

// The log is best effort: a closed stdout/stderr must not turn into an uncaught error loop.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

main().catch((err: unknown) =>
  exit(1, err instanceof HubappsError ? err.message : describeError(err)),
);
