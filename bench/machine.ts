/** What the figures were measured on: CPU, memory, versions, and how busy the machine was. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  chp: string;
  httpProxy3: string;
  wrk: string;
  sudo: string;
  python: string;
  /** 1, 5 and 15 minute load averages when this was read. */
  loadavg: number[];
}

function output(file: string, args: string[]): Promise<string> {
  return new Promise((resolve) =>
    execFile(file, args, { timeout: 10_000 }, (err, stdout, stderr) =>
      resolve(err && !stdout && !stderr ? 'not installed' : `${stdout}${stderr}`),
    ),
  );
}

function packageVersion(name: string): string {
  try {
    const file = createRequire(import.meta.url).resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function osName(): string {
  try {
    return (
      /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type()
    );
  } catch {
    return os.type();
  }
}

export async function describeMachine(): Promise<Machine> {
  const cpus = os.cpus();
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    os: osName(),
    node: process.version,
    chp: packageVersion('configurable-http-proxy'),
    httpProxy3: packageVersion('http-proxy-3'),
    wrk: (await output('/usr/bin/wrk', ['-v']))
      .split('\n')[0]!
      .replace(/ Copyright.*$/, '')
      .trim(),
    sudo: (await output('/usr/bin/sudo', ['-V'])).split('\n')[0]!.trim(),
    python: (await output('/usr/bin/python3', ['--version'])).trim(),
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
