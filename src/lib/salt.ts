/**
 * The salt of client address hashes. Client IPs are never stored: EventBuilder keeps sha256(salt + ip) only.
 * Configured (MODCAST_CLIENT_SALT) for a fleet that must hash alike on every node; otherwise generated once per
 * data directory and kept there (mode 0600), so hashes stay comparable across restarts of one installation.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';

export function clientSalt(cfg: Pick<Config, 'dataDir' | 'privacy'>): string {
  if (cfg.privacy.clientSalt) return cfg.privacy.clientSalt;
  const file = join(cfg.dataDir, 'client-salt');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(cfg.dataDir, { recursive: true });
  const salt = randomBytes(24).toString('base64url');
  writeFileSync(file, salt, { mode: 0o600, flag: 'wx' });
  return salt;
}
