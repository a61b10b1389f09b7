/**
 * undici's Pool loaded on its own: the package's entry point also loads fetch, WebSocket,
 * the cache and the mock agent, about 8 MB of memory in every proxy that uses none of them.
 */
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}
