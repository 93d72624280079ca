/** A truncated .gz access log and what any reader can recover from it, for the ingest and ship damage tests. */
import { writeFileSync } from 'node:fs';
import { createGunzip, gzipSync } from 'node:zlib';

/** What a streaming gunzip yields from `gz` before it fails: the bytes any reader can recover. */
function recoverable(gz: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const z = createGunzip();
    z.on('data', (d: Buffer) => parts.push(d));
    z.on('error', () => resolve(Buffer.concat(parts)));
    z.on('end', () => resolve(Buffer.concat(parts)));
    z.end(gz);
  });
}

export function nginxLines(n: number, seed = 0): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const sec = String((seed + i) % 60).padStart(2, '0');
    const min = String(Math.floor((seed + i) / 60) % 60).padStart(2, '0');
    out.push(
      `10.0.${i % 250}.${(i * 7) % 250} - - [25/Nov/2026:09:${min}:${sec} +0100] "GET /example.com/mod${i % 97}/@v/v1.${i % 13}.0.info HTTP/1.1" 200 ${100 + (i % 900)} "-" "Go-http-client/1.1" 0.00${i % 10} HIT\n`,
    );
  }
  return out.join('');
}

export interface TruncatedGz {
  /** Bytes a streaming gunzip yields before it fails. */
  readable: number;
  /** Offset just after the last complete line. */
  complete: number;
  completeLines: number;
}

/** Writes the first 60% of a gzip'd nginx log of `lines` lines to `file`; the cut falls inside a line. */
export async function writeTruncatedGz(file: string, lines: number, seed = 0): Promise<TruncatedGz> {
  // Varied content keeps the compressed stream long enough to cut it in the middle.
  const full = gzipSync(nginxLines(lines, seed));
  const cut = full.subarray(0, Math.floor(full.length * 0.6));
  writeFileSync(file, cut);
  const readable = await recoverable(cut);
  const text = readable.toString('latin1');
  const complete = text.lastIndexOf('\n') + 1;
  if (complete === text.length) throw new Error('the cut falls between lines; change the line count');
  return { readable: readable.length, complete, completeLines: text.slice(0, complete).split('\n').length - 1 };
}
