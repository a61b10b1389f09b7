/**
 * What system tests need to run hubapps the production way: test Unix accounts, the proxy
 * installed root-owned outside the checkout, a catalog, and the sudoers rule. All of it
 * needs root; call requireRootOrSkip(this) from test/helpers first.
 */
export { run, runOk, type RunResult } from './harness-exec.js';
export {
  TEST_GROUP,
  TEST_USERS,
  createTestAccounts,
  removeTestAccounts,
  exists,
} from './harness-accounts.js';
export {
  bareImports,
  builtProxyMain,
  installCatalog,
  installProxy,
  installService,
  lockDown,
  packageClosure,
  repoRoot,
  type InstalledProxy,
} from './harness-install.js';
export { installSudoersText, renderSudoers, sudoAsService, writeSudoers } from './harness-sudo.js';
