/**
 * Effectiveness of warm-ups (hits on warmed items, cold vs warm latency, wasted bytes), as measured by
 * src/warmup/effectiveness.ts. Null until that measurement is wired in.
 */
import type { Store } from '../store/client.js';

export async function runEffectiveness(store: Store, runId: string): Promise<Record<string, unknown> | null> {
  void store;
  void runId;
  return null;
}

export async function windowEffectiveness(store: Store, q: { from: Date; node?: string; region?: string }): Promise<Record<string, unknown> | null> {
  void store;
  void q;
  return null;
}
