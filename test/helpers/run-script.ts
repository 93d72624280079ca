/** Runs one of scripts/*.sh for a test helper; a failure says which real component the test needs, with its stderr. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { projectPath } from '../../src/lib/paths.js';

const run = promisify(execFile);

export async function runScript(script: string, args: string[], needs: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await run('bash', [projectPath('scripts', script), ...args], { env, timeout: 180_000, maxBuffer: 4 * 1024 * 1024 });
    return stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`scripts/${script} ${args.join(' ')} failed — ${needs} is required for this test:\n${err.stderr ?? err.message}`);
  }
}
