/** Structured logs (pino) to stderr, so stdout stays for command output. */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LogOutputOptions {
  /**
   * Gather lines until this many bytes (or FLUSH_MS) before writing: a busy server logging every request otherwise
   * pays one write call per line. Buffered lines are written on exit.
   */
  bufferBytes?: number;
}

const FLUSH_MS = 500;

export function createLogger(level: string, bindings: Record<string, unknown> = {}, output: LogOutputOptions = {}): Logger {
  const buffered = output.bufferBytes ? { minLength: output.bufferBytes, periodicFlush: FLUSH_MS } : {};
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      redact: { paths: ['*.password', '*.token', '*.authorization', 'req.headers.authorization', '*.hookSecret'], censor: '***' },
    },
    pino.destination({ fd: 2, sync: false, ...buffered }),
  );
}
