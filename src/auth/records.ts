import type { AuthStore } from '../store/auth.js';
import type { ShareStore } from '../store/shares.js';

/**
 * The records that decide who gets in: sessions, tokens and codes, and shares. The auth
 * layer owns them; the API reaches them only through this type, never the store modules.
 */
export interface AuthRecords {
  authStore: AuthStore;
  shares: ShareStore;
}
