/**
 * POST /v1/hooks/release: a new module version was published. Authenticated by an HMAC-SHA256 of
 * `<timestamp>.<raw body>` (`X-Modcast-Signature: sha256=<hex>`, `X-Modcast-Timestamp: <unix seconds>`, secret
 * `api.hookSecret`), checked before the body is parsed. Replays are refused: a timestamp more than
 * HOOK_WINDOW_MS away from now, or a signature / `X-Modcast-Delivery` id already accepted within the window.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { RoutePlugin } from '../context.js';
import { ReleaseHookBody, ReleaseHookReply, withErrors } from '../schemas.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signatureValid } from '../auth.js';
import { ModcastError, ErrorCodes } from '../../errors.js';
import { parseModulePath } from '../params.js';
import { checkVersionForModule } from '../../domain/module-path.js';

const HOOK_BODY_LIMIT = 64 * 1024;
/** How far a signed timestamp may be from this server's clock, either way. */
export const HOOK_WINDOW_MS = 5 * 60_000;
/** Deliveries remembered at most: an entry is needed only while its timestamp is inside the window. */
const HOOK_MEMORY = 10_000;

/** Signatures and delivery ids accepted recently, each kept until its timestamp leaves the window. */
export class ReplayMemory {
  private readonly seen = new Map<string, number>();
  constructor(private readonly max = HOOK_MEMORY) {}

  /** Remembers `keys` until `expiresAt`; false when one of them was already seen (a replay). */
  admit(keys: readonly string[], expiresAt: number, now: number): boolean {
    if (keys.some((k) => (this.seen.get(k) ?? -Infinity) >= now)) return false;
    if (this.seen.size + keys.length > this.max) for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
    // Full of live entries: refusing is safe (the sender retries), forgetting one would reopen it to replay.
    if (this.seen.size + keys.length > this.max)
      throw new ModcastError(ErrorCodes.RATE_LIMITED, `more than ${this.max} release notifications within ${HOOK_WINDOW_MS / 60_000} minutes; retry later`);
    for (const k of keys) this.seen.set(k, expiresAt);
    return true;
  }
}

const first = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);

export const hookRoutes: RoutePlugin = async (app, ctx) => {
  const secret = ctx.config.api.hookSecret;
  const memory = new ReplayMemory();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: HOOK_BODY_LIMIT }, (req, raw, done) => {
    const body = raw as Buffer;
    if (!secret) return done(new ModcastError(ErrorCodes.NOT_CONFIGURED, 'the release hook is off: set api.hookSecret (MODCAST_HOOK_SECRET)'), undefined);
    const ts = first(req.headers[TIMESTAMP_HEADER])?.trim() ?? '';
    if (!/^[0-9]{1,12}$/.test(ts)) return done(new ModcastError(ErrorCodes.UNAUTHORIZED, `missing or malformed ${TIMESTAMP_HEADER} (unix seconds)`), undefined);
    const signature = first(req.headers[SIGNATURE_HEADER]);
    if (!signatureValid(secret, body, ts, signature))
      return done(new ModcastError(ErrorCodes.UNAUTHORIZED, `missing or wrong ${SIGNATURE_HEADER} (sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">)`), undefined);
    const now = ctx.now();
    const signedAt = Number(ts) * 1000;
    if (Math.abs(now - signedAt) > HOOK_WINDOW_MS)
      return done(
        new ModcastError(ErrorCodes.HOOK_STALE, `${TIMESTAMP_HEADER} is ${Math.round((now - signedAt) / 1000)} s from this server's clock; at most ${HOOK_WINDOW_MS / 1000} s either way is accepted`),
        undefined,
      );
    const delivery = first(req.headers[DELIVERY_HEADER])?.trim();
    const keys = [`sig:${signature!.trim().toLowerCase()}`, ...(delivery ? [`id:${delivery}`] : [])];
    try {
      if (!memory.admit(keys, signedAt + HOOK_WINDOW_MS, now))
        return done(new ModcastError(ErrorCodes.HOOK_REPLAYED, 'this notification (signature or delivery id) was already accepted'), undefined);
    } catch (e) {
      return done(e as Error, undefined);
    }
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch {
      done(new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'the body is not valid JSON'), undefined);
    }
  });

  app.post(
    '/v1/hooks/release',
    {
      schema: {
        tags: ['hooks'],
        summary: 'a new module version was released (HMAC-signed)',
        description:
          `Signed with \`${SIGNATURE_HEADER}: sha256=<hex>\`, the HMAC-SHA256 of \`<timestamp>.<raw body>\` under api.hookSecret, ` +
          `\`${TIMESTAMP_HEADER}\` being the signing time in unix seconds. A timestamp more than ${HOOK_WINDOW_MS / 60_000} minutes ` +
          `away is refused (401 MODCAST_ERR_HOOK_STALE); a signature or \`${DELIVERY_HEADER}\` already accepted is refused ` +
          '(409 MODCAST_ERR_HOOK_REPLAYED). Answers 202.',
        headers: Type.Object({
          [SIGNATURE_HEADER]: Type.String({ pattern: '^sha256=[0-9a-fA-F]{64}$', description: 'sha256=<hex HMAC of "<timestamp>.<body>">' }),
          [TIMESTAMP_HEADER]: Type.String({ pattern: '^[0-9]{1,12}$', description: 'signing time, unix seconds' }),
          [DELIVERY_HEADER]: Type.Optional(Type.String({ maxLength: 200, description: 'unique id of this notification; a repeat is refused' })),
        }),
        body: ReleaseHookBody,
        response: withErrors({ 202: ReleaseHookReply }),
      },
      bodyLimit: HOOK_BODY_LIMIT,
    },
    async (req, reply) => {
      const module = parseModulePath(req.body.module);
      const reason = checkVersionForModule(module, req.body.version);
      if (reason !== undefined) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, reason);
      if (!ctx.scheduler) throw new ModcastError(ErrorCodes.NOT_CONFIGURED, 'no scheduler runs in this process to act on releases');
      const result = await ctx.scheduler.onReleaseEvent(module, req.body.version);
      return reply.status(202).send({ accepted: true, module, version: req.body.version, result });
    },
  );
};
