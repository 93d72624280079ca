/**
 * The configuration every benchmark process runs with: defaults, a fixed client salt, quiet logs; no environment
 * and no ./modcast.yaml, so a developer's settings never change the figures. Kept apart from store-setup.ts so
 * stages without a store do not load chDB (its native library alone is ~150 MB of RSS).
 */
import { loadConfig, type Config } from '../src/config.js';

export function benchConfig(workDir: string, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: { dataDir: workDir, logLevel: 'silent', privacy: { clientSalt: 'bench-salt-0123456789' }, ...overrides },
  });
}
