export { freePort } from './ports.js';
export { waitFor, type WaitOptions } from './wait.js';
export { tmpDir, type TmpDir } from './tmp.js';
export { inCi, isRoot, requirePrerequisite, requireRootOrSkip } from './prereq.js';
export { useLoginLink } from './login-link.js';
