import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { LineSplitter, readLines, type LineRecord } from '../../src/logs/lines.js';

const FIXTURE = new URL('../fixtures/logs/nginx-access.log', import.meta.url);

/** Plain comparable form of a record. */
function view(r: LineRecord): { text: string; offset: number; end: number; tooLong: boolean; partial: boolean } {
  return { text: r.raw.toString('latin1'), offset: r.offset, end: r.end, tooLong: r.tooLong === true, partial: r.partial === true };
}

/** Independent reference: split a whole buffer at once, the obvious way. */
function referenceSplit(data: Buffer, max: number): ReturnType<typeof view>[] {
  const out: ReturnType<typeof view>[] = [];
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(10, start);
    const partial = nl < 0;
    const stop = partial ? data.length : nl;
    let content = data.subarray(start, stop);
    if (!partial && content.length > 0 && content[content.length - 1] === 13) content = content.subarray(0, content.length - 1);
    const tooLong = content.length > max;
    out.push({
      text: content.subarray(0, max).toString('latin1'),
      offset: start,
      end: partial ? data.length : nl + 1,
      tooLong,
      partial,
    });
    start = partial ? data.length : nl + 1;
  }
  return out;
}

function splitInChunks(data: Buffer, sizes: number[], max: number, startOffset = 0): LineRecord[] {
  const s = new LineSplitter({ maxLineBytes: max, startOffset });
  const out: LineRecord[] = [];
  let pos = 0;
  let i = 0;
  while (pos < data.length) {
    const n = Math.max(1, sizes[i++ % sizes.length] ?? 1);
    out.push(...s.push(data.subarray(pos, pos + n)));
    pos += n;
  }
  out.push(...s.flush());
  return out;
}

describe('LineSplitter', () => {
  it('splits lines with byte offsets, CRLF and a partial last line', () => {
    const data = Buffer.from('alpha\r\nbeta\n\ngamma\u00e9\ndelta');
    const got = splitInChunks(data, [data.length], 100).map(view);
    assert.deepEqual(got, [
      { text: 'alpha', offset: 0, end: 7, tooLong: false, partial: false },
      { text: 'beta', offset: 7, end: 12, tooLong: false, partial: false },
      { text: '', offset: 12, end: 13, tooLong: false, partial: false },
      { text: Buffer.from('gamma\u00e9').toString('latin1'), offset: 13, end: 21, tooLong: false, partial: false },
      { text: 'delta', offset: 21, end: 26, tooLong: false, partial: true },
    ]);
  });

  it('gives the same records for 1-byte chunks as for one chunk', () => {
    const data = Buffer.from('one\r\ntwo\nthree\r\n\r\nfour');
    assert.deepEqual(splitInChunks(data, [1], 100).map(view), splitInChunks(data, [data.length], 100).map(view));
    assert.deepEqual(splitInChunks(data, [1], 100).map(view), referenceSplit(data, 100));
  });

  it('flags lines longer than maxLineBytes and keeps their first bytes only', () => {
    const long = 'x'.repeat(50);
    const data = Buffer.from(`short\n${long}\nafter\n${long}`);
    for (const sizes of [[data.length], [1], [7, 3, 11]]) {
      const got = splitInChunks(data, sizes, 10).map(view);
      assert.deepEqual(got, [
        { text: 'short', offset: 0, end: 6, tooLong: false, partial: false },
        { text: 'x'.repeat(10), offset: 6, end: 57, tooLong: true, partial: false },
        { text: 'after', offset: 57, end: 63, tooLong: false, partial: false },
        { text: 'x'.repeat(10), offset: 63, end: 113, tooLong: true, partial: true },
      ]);
    }
  });

  it('does not count a CR before the newline towards the length limit', () => {
    const data = Buffer.from('0123456789\r\n0123456789x\r\n');
    for (const sizes of [[data.length], [1]]) {
      const got = splitInChunks(data, sizes, 10).map((r) => [r.raw.toString(), r.tooLong === true]);
      assert.deepEqual(got, [['0123456789', false], ['0123456789', true]]);
    }
  });

  it('starts counting at startOffset and reports the committed offset', () => {
    const s = new LineSplitter({ startOffset: 1000 });
    const first = s.push(Buffer.from('a\nbc'));
    assert.deepEqual(first.map(view), [{ text: 'a', offset: 1000, end: 1002, tooLong: false, partial: false }]);
    assert.equal(s.committedOffset, 1002);
    const second = s.push(Buffer.from('d\n'));
    assert.deepEqual(second.map(view), [{ text: 'bcd', offset: 1002, end: 1006, tooLong: false, partial: false }]);
    assert.equal(s.committedOffset, 1006);
    assert.deepEqual(s.flush(), []);
  });

  it('accepts Uint8Array chunks', () => {
    const s = new LineSplitter();
    const got = s.push(new Uint8Array([104, 105, 10]));
    assert.equal(got[0]?.raw.toString(), 'hi');
  });

  it('rejects a non-positive maxLineBytes', () => {
    assert.throws(() => new LineSplitter({ maxLineBytes: 0 }), RangeError);
  });

  it('matches the reference splitter for any bytes and any chunking (property)', () => {
    const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a.map((b) => (b % 5 === 0 ? 10 : b % 7 === 0 ? 13 : b))));
    fc.assert(
      fc.property(bytes, fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 30 }), (data, sizes, max) => {
        assert.deepEqual(splitInChunks(data, sizes, max).map(view), referenceSplit(data, max));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('readLines', () => {
  it('reads the nginx fixture with offsets that point at the lines in the file', async () => {
    const file = readFileSync(FIXTURE);
    const records: LineRecord[] = [];
    let batches = 0;
    for await (const batch of readLines(createReadStream(FIXTURE, { highWaterMark: 4096 }), { maxLineBytes: 64 * 1024 })) {
      assert.ok(batch.length > 0);
      batches++;
      records.push(...batch);
    }
    assert.ok(batches > 1, 'several chunks should give several batches');
    assert.deepEqual(records.map(view), referenceSplit(file, 64 * 1024));
    for (const r of records) {
      if (!r.tooLong) assert.ok(file.subarray(r.offset, r.offset + r.raw.length).equals(r.raw));
    }
    const huge = records.filter((r) => r.tooLong);
    assert.equal(huge.length, 1);
    assert.equal(huge[0]?.raw.length, 64 * 1024);
    const last = records[records.length - 1];
    assert.equal(last?.partial, true);
    assert.equal(last?.end, file.length);
  });

  it('holds back the partial last line when asked (a tailer waits for the rest)', async () => {
    const got: LineRecord[] = [];
    for await (const b of readLines(Readable.from([Buffer.from('a\nb\nhalf')]), { emitPartial: false })) got.push(...b);
    assert.deepEqual(got.map((r) => r.raw.toString()), ['a', 'b']);
  });

  it('streams a 5 MB line through 64 KiB chunks keeping only its first bytes', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const parts = [Buffer.from('head\n'), ...Array.from({ length: 80 }, () => chunk), Buffer.from('\ntail\n')];
    const got: LineRecord[] = [];
    for await (const b of readLines(Readable.from(parts), { maxLineBytes: 1000 })) got.push(...b);
    assert.deepEqual(got.map((r) => [r.raw.length, r.tooLong === true, r.offset]), [
      [4, false, 0],
      [1000, true, 5],
      [4, false, 5 + 80 * 64 * 1024 + 1],
    ]);
  });
});
