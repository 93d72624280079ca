/** Reading .gz logs that may be damaged (a rotation cut short by a full disk, an interrupted copy). */
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { ModcastError, ErrorCodes } from '../errors.js';

/** Where a .gz stopped decompressing: after `decompressed` output bytes, at about `compressed` input bytes. */
export interface GzDamage {
  decompressed: number;
  compressed: number;
  size: number;
  reason: string;
}

/** Decompressed bytes held for a slow reader before the file is paused. */
const HIGH_WATER = 1024 * 1024;

/**
 * Decompresses a .gz from decompressed offset `skip` on (resuming inside it). A damaged stream (truncated,
 * corrupt) ends the data where it breaks instead of throwing, so everything before is still read; `onDamage`
 * says where. Other errors (the file cannot be read) still throw.
 *
 * The decompressor is never paused: an error destroys a stream together with the output it buffered, so the
 * output is taken as it comes ('data') and backpressure is applied to the compressed input instead.
 */
export async function* gunzipFile(path: string, skip: number, onDamage: (d: GzDamage) => void): AsyncGenerator<Buffer> {
  const file = createReadStream(path, { highWaterMark: 64 * 1024 });
  const gunzip = createGunzip();
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  gunzip.on('data', (c: Buffer) => {
    queue.push(c);
    queued += c.length;
    if (queued > HIGH_WATER) file.pause();
    notify();
  });
  gunzip.on('end', () => {
    ended = true;
    notify();
  });
  gunzip.on('error', (e) => {
    failure ??= e;
    ended = true;
    notify();
  });
  file.on('data', (c) => {
    if (!gunzip.write(c)) {
      file.pause();
      gunzip.once('drain', () => queued <= HIGH_WATER && file.resume());
    }
  });
  file.on('end', () => gunzip.end());
  file.on('error', (e) => {
    failure ??= e;
    ended = true;
    notify();
  });
  let out = 0;
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk === undefined) {
        if (ended) break;
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      queued -= chunk.length;
      if (queued <= HIGH_WATER / 2 && file.isPaused() && gunzip.writableNeedDrain === false) file.resume();
      const from = Math.min(chunk.length, Math.max(0, skip - out));
      out += chunk.length;
      if (from < chunk.length) yield from === 0 ? chunk : chunk.subarray(from);
    }
    if (failure) {
      const code = (failure as NodeJS.ErrnoException).code ?? '';
      if (!code.startsWith('Z_')) throw failure;
      onDamage({ decompressed: out, compressed: gunzip.bytesWritten, size: statSync(path).size, reason: `${code}: ${failure.message}` });
    }
  } finally {
    file.destroy();
    gunzip.destroy();
  }
}

export function damagedInputError(path: string, d: GzDamage): ModcastError {
  return new ModcastError(
    ErrorCodes.INPUT_DAMAGED,
    `${path} is damaged at decompressed byte ${d.decompressed} (compressed byte ${d.compressed} of ${d.size}; ${d.reason}); ` +
      'every line before it is stored, the broken last line is a reject',
  );
}
