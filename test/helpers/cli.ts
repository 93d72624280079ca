/** Runs the real `modcast` CLI as a child process (through tsx), for crash/resume and end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { projectPath } from '../../src/lib/paths.js';

export const CLI_ENTRY = projectPath('src/cli/index.ts');

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}, stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: projectPath(),
    env: { ...process.env, MODCAST_LOG_LEVEL: 'warn', ...env },
    stdio: [stdin, 'pipe', 'pipe'],
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `input`: written to the CLI's stdin, which is then closed (without it, stdin is not connected). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string | Buffer): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env, input === undefined ? 'ignore' : 'pipe');
    child.stdin?.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
