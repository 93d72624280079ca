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

/**
 * Decompresses a .gz from decompressed offset `skip` on (resuming inside it). A damaged stream (truncated,
 * corrupt) ends the data where it breaks instead of throwing, so everything before is still read; `onDamage`
 * says where. Other errors (the file cannot be read) still throw.
 */
export async function* gunzipFile(path: string, skip: number, onDamage: (d: GzDamage) => void): AsyncGenerator<Buffer> {
  const file = createReadStream(path);
  const gunzip = createGunzip();
  // pipe() does not forward the source's errors; without this a read error would leave the iterator waiting.
  file.on('error', (e) => gunzip.destroy(e));
  file.pipe(gunzip);
  let out = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const from = Math.min(chunk.length, Math.max(0, skip - out));
      out += chunk.length;
      if (from < chunk.length) yield from === 0 ? chunk : chunk.subarray(from);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (!code.startsWith('Z_')) throw e;
    onDamage({ decompressed: out, compressed: gunzip.bytesWritten, size: statSync(path).size, reason: `${code}: ${(e as Error).message}` });
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
