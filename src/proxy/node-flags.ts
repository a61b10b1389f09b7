/**
 * The V8 flags every hubapps-proxy runs with, host or Slurm job (command-line.ts puts them on
 * node's command line for every caller: V8 reads them only at start-up).
 * Measured in docs/benchmarks.md, both cut memory without costing CPU per request:
 * - `--liftoff-only`: undici parses HTTP in WebAssembly; V8's optimising compiler
 *   recompiling that parser once it gets hot costs a ~30 MB peak of memory in the middle
 *   of the first large download, and its baseline code is as fast for this parser.
 * - `--max-semi-space-size=1` (MB): a small young generation, so a burst of requests does
 *   not leave the idle proxy with an enlarged heap it never returns.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--liftoff-only', '--max-semi-space-size=1'];
