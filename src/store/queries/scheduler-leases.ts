/**
 * SQL of `scheduler_leases` (pipelines/031_scheduler_lease.sql): the claims and renewals of the scheduler's
 * ClickHouse lease. The protocol over them is src/scheduler/leader.ts's. Times are epoch ms.
 */
import { queryRows, type Store } from '../client.js';

export interface LeaseClaim {
  name: string;
  term: number;
  holder: string;
  acquiredAt: number;
  expiresAt: number;
  updatedAt: number;
}

export async function writeLeaseClaim(store: Store, c: LeaseClaim): Promise<void> {
  await store.client.insert({
    table: 'scheduler_leases',
    format: 'JSONEachRow',
    values: [{ name: c.name, term: c.term, holder: c.holder, acquired_at: c.acquiredAt, expires_at: c.expiresAt, updated_at: c.updatedAt }],
  });
}

/** The current term's holder: earliest claimant of the highest term, with the expiry it wrote last (renew or release). */
export async function readLeaseHolder(store: Store, name: string): Promise<{ term: number; holder: string; expiresAt: number } | undefined> {
  const rows = await queryRows<{ term: string; holder: string; acquired: string; expires: string }>(
    store,
    `SELECT term, holder, toUnixTimestamp64Milli(min(acquired_at)) AS acquired, toUnixTimestamp64Milli(argMax(expires_at, updated_at)) AS expires
     FROM scheduler_leases
     WHERE name = {name:String} AND term = (SELECT max(term) FROM scheduler_leases WHERE name = {name:String})
     GROUP BY term, holder ORDER BY acquired ASC, holder ASC LIMIT 1`,
    { name },
  );
  const r = rows[0];
  return r ? { term: Number(r.term), holder: r.holder, expiresAt: Number(r.expires) } : undefined;
}
