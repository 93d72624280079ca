/**
 * Bearer tokens and webhook signatures.
 * Tokens are kept only as sha256 digests (configured as `sha256:<hex>`, or plain and hashed at load), and a
 * presented token is hashed and compared with every digest in constant time, so neither the comparison nor
 * the number of configured tokens leaks through timing.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { ModcastError, ErrorCodes } from '../errors.js';

const HASHED = /^sha256:([0-9a-f]{64})$/i;

const sha256 = (text: string | Buffer): Buffer => createHash('sha256').update(text).digest();

export function tokenDigests(tokens: readonly string[]): Buffer[] {
  return tokens.map((t) => {
    const m = HASHED.exec(t);
    return m ? Buffer.from(m[1]!, 'hex') : sha256(t);
  });
}

/** Constant time in the token and in which digest matches: every digest is compared. */
export function tokenMatches(digests: readonly Buffer[], presented: string): boolean {
  const candidate = sha256(presented);
  let ok = false;
  for (const d of digests) ok = timingSafeEqual(d, candidate) || ok;
  return ok;
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

export interface Authenticator {
  /** Throws 401 unless the request carries a configured token. */
  requireToken(request: FastifyRequest): void;
  /** requireToken when `api.readAuth` is on, otherwise nothing. */
  requireReadAccess(request: FastifyRequest): void;
}

export function createAuthenticator(api: Config['api']): Authenticator {
  const digests = tokenDigests(api.tokens);
  if (api.readAuth && digests.length === 0)
    throw new ModcastError(ErrorCodes.CONFIG_INVALID, 'api.readAuth is on but no api.tokens (MODCAST_API_TOKENS) are configured');
  const requireToken = (request: FastifyRequest): void => {
    if (digests.length === 0) throw new ModcastError(ErrorCodes.UNAUTHORIZED, 'this route needs a bearer token and none is configured (api.tokens / MODCAST_API_TOKENS)');
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw new ModcastError(ErrorCodes.UNAUTHORIZED, 'missing bearer token (Authorization: Bearer <token>)');
    if (!tokenMatches(digests, token)) throw new ModcastError(ErrorCodes.UNAUTHORIZED, 'invalid bearer token');
  };
  return {
    requireToken,
    requireReadAccess: (request) => {
      if (api.readAuth) requireToken(request);
    },
  };
}

export const SIGNATURE_HEADER = 'x-modcast-signature';
export const TIMESTAMP_HEADER = 'x-modcast-timestamp';
export const DELIVERY_HEADER = 'x-modcast-delivery';

/**
 * `sha256=<hex>` HMAC of `<timestamp>.<body>`, as a sender puts it in X-Modcast-Signature (with the same
 * `timestamp`, unix seconds, in X-Modcast-Timestamp): the time is signed, so a captured request ages out.
 */
export function signBody(secret: string, body: Buffer | string, timestamp: number): string {
  return `sha256=${hookHmac(secret, timestamp, body).toString('hex')}`;
}

function hookHmac(secret: string, timestamp: number | string, body: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

export function signatureValid(secret: string, body: Buffer, timestamp: string, header: string | undefined): boolean {
  const m = header ? /^sha256=([0-9a-f]{64})$/i.exec(header.trim()) : null;
  if (!m) return false;
  return timingSafeEqual(hookHmac(secret, timestamp, body), Buffer.from(m[1]!, 'hex'));
}
