/** Locates files shipped with modcast (pipelines/, dashboards/) from source or compiled code alike. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'pipelines'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot locate the modcast installation (package.json + pipelines/)');
    dir = up;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot();
export const projectPath = (...parts: string[]): string => join(PROJECT_ROOT, ...parts);
