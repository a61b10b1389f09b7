import crypto from 'node:crypto';

/** Secrets are stored only as SHA-256 hashes: a copy of the database file gives no way in. */
export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('base64url');
}

export function newSecret(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}
