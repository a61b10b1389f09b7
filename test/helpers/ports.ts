/** Tests bind port 0 or ask for a free loopback port; never a fixed one. */
export { freePort } from '../../src/net/ports.js';
