/**
 * Dead letters: Kafka messages the ingestor cannot read (not JSON, unknown schema version, missing fields).
 * Each goes to the dead-letter topic with its original bytes and the error, keyed `<topic>/<partition>/<offset>`,
 * and is also stored in `rejected_events` (source `kafka:<topic>/<partition>`) inside the batch's own insert, so it
 * is counted exactly once there. The topic copy is at-least-once: a redelivered batch sends its dead letters again
 * under the same key, which is how a reader recognises the repeat.
 */
import type { RejectedRow } from '../store/event-rows.js';
import type { OutgoingMessage, Producer } from './types.js';

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  error: string;
}

/** Value of a dead-letter message (schema version 1). */
interface DeadLetterMessageV1 {
  v: 1;
  topic: string;
  partition: number;
  offset: number;
  group: string;
  error: string;
  /** Base64 of the original key and value; null when the message had none. */
  key: string | null;
  value: string | null;
  at: number;
}

export function deadLetterKey(d: Pick<DeadLetter, 'topic' | 'partition' | 'offset'>): string {
  return `${d.topic}/${d.partition}/${d.offset}`;
}

export function encodeDeadLetter(d: DeadLetter, group: string, at: number): OutgoingMessage {
  const m: DeadLetterMessageV1 = {
    v: 1,
    topic: d.topic,
    partition: d.partition,
    offset: d.offset,
    group,
    error: d.error,
    key: d.key ? d.key.toString('base64') : null,
    value: d.value ? d.value.toString('base64') : null,
    at,
  };
  return { key: deadLetterKey(d), value: Buffer.from(JSON.stringify(m)) };
}

/** The row kept in rejected_events; the origin node is unknown (the message is unreadable). */
export function deadLetterRow(d: DeadLetter, at: number): RejectedRow {
  return {
    received_at: at,
    source: `kafka:${d.topic}/${d.partition}`,
    node: '',
    offset: d.offset,
    reason: d.error,
    raw_base64: (d.value ?? Buffer.alloc(0)).toString('base64'),
  };
}

export class DeadLetterQueue {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly group: string,
  ) {}

  /** Resolves once the broker acknowledged every letter. */
  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const at = Date.now();
    await this.producer.send([{ topic: this.topic, messages: letters.map((d) => encodeDeadLetter(d, this.group, at)) }]);
  }
}
