import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Tailer, type TailChunk } from '../../src/ship/tailer.js';
import { CheckpointStore } from '../../src/lib/checkpoint.js';

interface Seen {
  text: string;
  src: string;
  offset: number;
  path: string;
}

function setup(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-tailer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const checkpoints = new CheckpointStore(join(dir, 'checkpoints'));
  const logs = join(dir, 'logs');
  const tailer = (patterns: string[], extra: { idleCloseMs?: number; chunkBytes?: number } = {}) =>
    new Tailer({ patterns: patterns.map((p) => join(logs, p)), node: 'n1', checkpoints, pollMs: 20, idleCloseMs: 300, ...extra });
  return { dir, logs, checkpoints, tailer };
}

const lines = (prefix: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${prefix} line ${from + i}\n`).join('');

/** Reads (acknowledging every chunk, as the shipper does after the broker's ack) until `count` lines or timeout. */
async function collect(tailer: Tailer, count: number, timeoutMs = 5000, out: Seen[] = []): Promise<Seen[]> {
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const chunk: TailChunk | undefined = await tailer.next(50);
    if (!chunk) continue;
    for (const l of chunk.lines) out.push({ text: l.raw.toString(), src: chunk.source.src, offset: l.offset, path: chunk.source.path });
    tailer.acknowledge(chunk.source, chunk.end);
  }
  return out;
}

/** Nothing more arrives within `ms`. */
async function assertQuiet(tailer: Tailer, ms = 400): Promise<void> {
  const extra = await collect(tailer, 1, ms);
  assert.deepEqual(extra, [], `unexpected extra lines: ${JSON.stringify(extra.slice(0, 3))}`);
}

test('a file that does not exist yet is picked up; appends are followed; a partial line waits for its newline', async (t) => {
  const { logs, tailer: make } = setup(t);
  const tailer = make(['access.log']);
  t.after(() => tailer.close());
  assert.equal(await tailer.next(60), undefined);
  // Not even the directory exists yet.
  mkdirSync(logs);
  writeFileSync(join(logs, 'access.log'), lines('a', 0, 3) + 'a line 3 (partial');
  const first = await collect(tailer, 3);
  assert.deepEqual(first.map((s) => s.text), ['a line 0', 'a line 1', 'a line 2']);
  await assertQuiet(tailer, 200);
  appendFileSync(join(logs, 'access.log'), ')\n' + lines('a', 4, 2));
  const rest = await collect(tailer, 3);
  assert.deepEqual(rest.map((s) => s.text), ['a line 3 (partial)', 'a line 4', 'a line 5']);
  assert.equal(rest[0]!.offset, Buffer.byteLength(lines('a', 0, 3)));
  assert.equal(await tailer.lagBytes(), 0);
});

test('rotation by rename: the old file is finished first, then the new one; every line once', async (t) => {
  const { logs, tailer: make } = setup(t);
  mkdirSync(logs);
  const live = join(logs, 'access.log');
  writeFileSync(live, lines('old', 0, 100));
  const tailer = make(['access.log*']);
  t.after(() => tailer.close());
  const seen = await collect(tailer, 100);
  // The writer keeps appending to the renamed file for a moment (nginx until it reopens its log).
  renameSync(live, join(logs, 'access.log.1'));
  appendFileSync(join(logs, 'access.log.1'), lines('old', 100, 50));
  writeFileSync(live, lines('new', 0, 80));
  await collect(tailer, 230, 5000, seen);
  await assertQuiet(tailer);
  const texts = seen.map((s) => s.text);
  assert.deepEqual(texts.slice(0, 150), Array.from({ length: 150 }, (_, i) => `old line ${i}`));
  assert.deepEqual(texts.slice(150), Array.from({ length: 80 }, (_, i) => `new line ${i}`));
  assert.equal(new Set(seen.slice(0, 150).map((s) => s.src)).size, 1, 'the renamed file keeps its source id');
  assert.notEqual(seen[150]!.src, seen[0]!.src);
});

test('rotation by rename out of the patterns: the open file is read to its end, then the new file', async (t) => {
  const { logs, tailer: make } = setup(t);
  mkdirSync(logs);
  const live = join(logs, 'access.log');
  writeFileSync(live, lines('old', 0, 10));
  const tailer = make(['access.log']);
  t.after(() => tailer.close());
  const seen = await collect(tailer, 10);
  renameSync(live, join(logs, 'rotated-away'));
  appendFileSync(join(logs, 'rotated-away'), lines('old', 10, 5) + 'old unterminated');
  writeFileSync(live, lines('new', 0, 5));
  await collect(tailer, 21, 5000, seen);
  await assertQuiet(tailer);
  const texts = seen.map((s) => s.text);
  // Complete lines of the old file come first; its unterminated last line only once the file has been idle.
  assert.deepEqual(texts.slice(0, 15), Array.from({ length: 15 }, (_, i) => `old line ${i}`));
  assert.deepEqual(texts.filter((x) => x.startsWith('new')), Array.from({ length: 5 }, (_, i) => `new line ${i}`));
  assert.equal(texts.filter((x) => x === 'old unterminated').length, 1);
  assert.equal(texts.length, 21);
});

test('copytruncate: the copy is finished from where the original was; the truncated file starts over; every line once', async (t) => {
  const { logs, tailer: make } = setup(t);
  mkdirSync(logs);
  const live = join(logs, 'access.log');
  writeFileSync(live, lines('one', 0, 40));
  const tailer = make(['access.log*']);
  t.after(() => tailer.close());
  const seen = await collect(tailer, 40);
  // Written after the tailer's last read and before the rotation: only the copy has these lines.
  appendFileSync(live, lines('one', 40, 20));
  copyFileSync(live, join(logs, 'access.log.1'));
  truncateSync(live, 0);
  appendFileSync(live, lines('two', 0, 30));
  await collect(tailer, 90, 5000, seen);
  await assertQuiet(tailer);
  const texts = seen.map((s) => s.text);
  assert.deepEqual(texts.filter((x) => x.startsWith('one')), Array.from({ length: 60 }, (_, i) => `one line ${i}`));
  assert.deepEqual(texts.filter((x) => x.startsWith('two')), Array.from({ length: 30 }, (_, i) => `two line ${i}`));
  const oneSrc = new Set(seen.filter((s) => s.text.startsWith('one')).map((s) => s.src));
  assert.equal(oneSrc.size, 1, 'original and copy are one source');
});

test('.gz rotated files are read once, also across restarts and when they are a compressed copy of a file already read', async (t) => {
  const { logs, tailer: make } = setup(t);
  mkdirSync(logs);
  writeFileSync(join(logs, 'access.log.2.gz'), gzipSync(lines('gz', 0, 500) + 'gz last without newline'));
  writeFileSync(join(logs, 'access.log.1'), lines('one', 0, 20));
  const first = make(['access.log*']);
  const seen = await collect(first, 521);
  await assertQuiet(first);
  await first.close();
  const gz = seen.filter((s) => s.text.startsWith('gz'));
  assert.equal(gz.length, 501);
  assert.equal(gz.at(-1)!.text, 'gz last without newline');
  assert.equal(seen.filter((s) => s.text.startsWith('one')).length, 20);
  // logrotate compresses access.log.1 and removes it; a restarted tailer must not ship any of it again.
  writeFileSync(join(logs, 'access.log.1.gz'), gzipSync(lines('one', 0, 20)));
  unlinkSync(join(logs, 'access.log.1'));
  const second = make(['access.log*']);
  t.after(() => second.close());
  await assertQuiet(second, 500);
});

test('a restart resumes at the acknowledged offset, not at what was read', async (t) => {
  const { logs, tailer: make } = setup(t);
  mkdirSync(logs);
  writeFileSync(join(logs, 'access.log'), lines('x', 0, 1000));
  const first = make(['access.log'], { chunkBytes: 4096 });
  const chunkA = (await first.next(1000))!;
  first.acknowledge(chunkA.source, chunkA.end);
  const chunkB = (await first.next(1000))!;
  assert.ok(chunkB.lines[0]!.offset === chunkA.end, 'chunks are contiguous');
  // chunkB was read but never acknowledged (the broker did not confirm it): a restart reads it again.
  assert.ok((await first.lagBytes()) > 0);
  await first.close();
  const second = make(['access.log'], { chunkBytes: 4096 });
  t.after(() => second.close());
  const again = await collect(second, 1000 - chunkA.lines.length);
  assert.equal(again[0]!.offset, chunkA.end);
  assert.equal(again[0]!.text, chunkB.lines[0]!.raw.toString());
  assert.equal(again.at(-1)!.text, 'x line 999');
  await assertQuiet(second, 200);
});
