/** Structured logs (pino) to stderr, so stdout stays for command output. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      redact: { paths: ['*.password', '*.token', '*.authorization', 'req.headers.authorization', '*.hookSecret'], censor: '***' },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
