/**
 * Growing access logs for the Kafka tests: realistic nginx lines from the seeded demo workload generator, with
 * known malformed lines mixed in, appended over time and rotated the ways logrotate does it.
 */
import { appendFileSync, copyFileSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultWorkload, generateWorkload, type GeneratedRequest, type WorkloadNode } from '../../src/demo/generator.js';
import { renderLine } from '../../src/demo/formats.js';

export class GrowingLog {
  readonly path: string;
  /** Lines written that must become events. */
  valid = 0;
  /** Lines written that must be rejected. */
  malformed = 0;
  private readonly requests: Iterator<GeneratedRequest>;
  private rotations = 0;

  constructor(
    dir: string,
    readonly node: WorkloadNode,
    private readonly options: { seed: number; malformedEvery: number },
  ) {
    this.path = join(dir, `${node.name}.access.log`);
    this.requests = generateWorkload(defaultWorkload({ seed: options.seed, nodes: [node], days: 120, modules: 300 }))[Symbol.iterator]();
  }

  get lines(): number {
    return this.valid + this.malformed;
  }

  /** Appends `n` lines; every `malformedEvery`-th is garbage the parser must reject. */
  append(n: number): void {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      if ((this.lines + 1) % this.options.malformedEvery === 0) {
        out.push(`this is not an access log line ${this.node.name} #${this.malformed} \u0001`);
        this.malformed++;
        continue;
      }
      const r = this.requests.next();
      if (r.done) throw new Error(`the workload of ${this.node.name} ran out of requests`);
      out.push(renderLine(r.value, 'nginx'));
      this.valid++;
    }
    appendFileSync(this.path, out.join('\n') + '\n');
  }

  /** logrotate's default: rename; the next append creates a new file. */
  rotateByRename(): string {
    const to = `${this.path}.${++this.rotations}`;
    renameSync(this.path, to);
    return to;
  }

  /** logrotate `copytruncate`: copy, then truncate in place (the writer keeps its file open). */
  rotateByCopyTruncate(): string {
    const to = `${this.path}.${++this.rotations}`;
    copyFileSync(this.path, to);
    truncateSync(this.path, 0);
    return to;
  }

  /** logrotate `compress`: rename, gzip the rotated file, delete the plain copy. */
  rotateToGzip(): string {
    const plain = this.rotateByRename();
    writeFileSync(`${plain}.gz`, gzipSync(readFileSync(plain)));
    unlinkSync(plain);
    return `${plain}.gz`;
  }
}

/** Appends `total` lines to each log in steps of `step` lines every `everyMs`, calling `between(i)` before step i. */
export async function appendOverTime(
  logs: GrowingLog[],
  total: number,
  step: number,
  everyMs: number,
  between?: (stepIndex: number) => void | Promise<void>,
): Promise<void> {
  for (let i = 0, done = 0; done < total; i++, done += step) {
    await between?.(i);
    for (const log of logs) log.append(Math.min(step, total - done));
    await sleep(everyMs);
  }
}

/** Polls `check` until true; on timeout the error carries `state()` (counts, lags) to show where it stuck. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  state?: () => Promise<unknown> | unknown,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      const detail = state ? ` — state: ${JSON.stringify(await state())}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(250);
  }
}
