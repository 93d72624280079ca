/** Progress of long CLI work on stderr: one rewritten line on a terminal, a line every few seconds otherwise. */
export interface ProgressReporter {
  update(text: string): void;
  done(text: string): void;
}

export function progressReporter(stream: NodeJS.WriteStream = process.stderr, intervalMs = 2000): ProgressReporter {
  let last = 0;
  const tty = stream.isTTY === true;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < (tty ? 200 : intervalMs)) return;
      last = now;
      stream.write(tty ? `\r\x1b[2K${text}` : `${text}\n`);
    },
    done(text) {
      stream.write(tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
    },
  };
}

export function rate(count: number, sinceMs: number): string {
  const s = (Date.now() - sinceMs) / 1000;
  const r = s > 0 ? count / s : 0;
  return r >= 1000 ? `${(r / 1000).toFixed(1)}k/s` : `${r.toFixed(0)}/s`;
}
