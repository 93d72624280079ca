/**
 * POST /v1/hooks/release: a new module version was published. Authenticated by an HMAC-SHA256 of the raw body
 * (`X-Modcast-Signature: sha256=<hex>`, secret `api.hookSecret`), checked before the body is parsed.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { RoutePlugin } from '../context.js';
import { ReleaseHookBody, ReleaseHookReply, withErrors } from '../schemas.js';
import { SIGNATURE_HEADER, signatureValid } from '../auth.js';
import { ModcastError, ErrorCodes } from '../../errors.js';
import { parseModulePath } from '../params.js';
import { checkVersionForModule } from '../../domain/module-path.js';

const HOOK_BODY_LIMIT = 64 * 1024;

export const hookRoutes: RoutePlugin = async (app, ctx) => {
  const secret = ctx.config.api.hookSecret;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: HOOK_BODY_LIMIT }, (req, raw, done) => {
    const body = raw as Buffer;
    if (!secret) return done(new ModcastError(ErrorCodes.NOT_CONFIGURED, 'the release hook is off: set api.hookSecret (MODCAST_HOOK_SECRET)'), undefined);
    const header = req.headers[SIGNATURE_HEADER];
    if (!signatureValid(secret, body, Array.isArray(header) ? header[0] : header))
      return done(new ModcastError(ErrorCodes.UNAUTHORIZED, `missing or wrong ${SIGNATURE_HEADER} (sha256=<hex HMAC-SHA256 of the body>)`), undefined);
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
        description: `Signed with \`${SIGNATURE_HEADER}: sha256=<hex>\`, the HMAC-SHA256 of the raw body under api.hookSecret. Answers 202.`,
        headers: Type.Object({ [SIGNATURE_HEADER]: Type.String({ description: 'sha256=<hex HMAC of the body>' }) }),
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
