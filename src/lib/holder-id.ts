/** Who this process is to its peers (scheduler leases, warm-up workers): host, pid and a random part for restarts. */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

export function defaultHolderId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}
