import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { Express, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Role } from '../lib/roles';
import type { Auth } from './auth';
import { jsonBody, parseWith } from './validate';

// Gives zod's (v3 API) schemas the .openapi() metadata the generator reads; once, before any document is generated.
extendZodWithOpenApi(z);

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Express's `/a/:id` as OpenAPI's `/a/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}

const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    requestId: z.string(),
  }),
});

/** The document's side of the routes: every route registers here the schemas it validates with. */
export class ApiDocs {
  readonly registry = new OpenAPIRegistry();

  add(spec: {
    method: Method;
    path: string;
    summary: string;
    access: readonly Role[] | 'public';
    query?: z.ZodTypeAny;
    body?: z.ZodTypeAny;
    /** The success answer's shape, where the route documents it. */
    response?: z.ZodTypeAny;
    status?: number;
  }) {
    const params = [...spec.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
    const responses: Record<number, { description: string; content?: Record<string, { schema: z.ZodTypeAny }> }> = {
      [spec.status ?? 200]: {
        description: 'Success (JSON)',
        ...(spec.response ? { content: { 'application/json': { schema: spec.response } } } : {}),
      },
      400: { description: 'Bad input: the field is named', content: { 'application/json': { schema: errorSchema } } },
    };
    if (spec.access !== 'public') {
      responses[401] = { description: 'No, unknown or revoked API key', content: { 'application/json': { schema: errorSchema } } };
      responses[403] = { description: "The key's role may not call this route", content: { 'application/json': { schema: errorSchema } } };
    }
    this.registry.registerPath({
      method: spec.method,
      path: openApiPath(spec.path),
      summary: spec.summary,
      description: spec.access === 'public' ? 'No key needed.' : `Roles: ${spec.access.join(', ')}.`,
      ...(spec.access === 'public' ? {} : { security: [{ bearer: [] }] }),
      request: {
        ...(params.length ? { params: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))) } : {}),
        ...(spec.query ? { query: spec.query as z.AnyZodObject } : {}),
        ...(spec.body ? { body: { content: { 'application/json': { schema: spec.body } }, required: true } } : {}),
      },
      responses,
    });
  }

  document() {
    this.registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API key: fs_…' });
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'Foresight API',
        version: '1',
        description: 'Profiles, decisions, approvals, policies and webhooks. Errors: {error: {code, message, field?, requestId}}.',
      },
    });
  }
}

export interface RouteSpec<Q extends z.ZodTypeAny, B extends z.ZodTypeAny> {
  method: Method;
  path: string;
  summary: string;
  roles: Role[];
  query?: Q;
  body?: B;
  /** The success answer's shape, for the document (the handler's type is checked by TypeScript, not at run time). */
  response?: z.ZodTypeAny;
  /** The success status (default 200). */
  status?: number;
}

type Infer<S> = S extends z.ZodTypeAny ? z.infer<S> : undefined;

/** A handler's answer that is not JSON (a CSV export): sent as it is, with its content type and file name. */
export class FileAnswer {
  constructor(
    readonly contentType: string,
    readonly body: string,
    readonly fileName: string,
  ) {}
}

/** A handler's answer already serialised as JSON (a cached document): sent as it is. */
export class JsonText {
  constructor(readonly json: string) {}
}

/**
 * One route, defined once: the guard (allow(...roles)), the body parser after it, the query and body parsed with the
 * same zod schemas the OpenAPI document is generated from, and the handler's answer sent as JSON (or, for a
 * FileAnswer, as the file it is; a JsonText, as the JSON it is).
 */
export function defineRoute<Q extends z.ZodTypeAny | undefined = undefined, B extends z.ZodTypeAny | undefined = undefined>(
  app: Express,
  ctx: { auth: Auth; docs: ApiDocs },
  spec: RouteSpec<NonNullable<Q>, NonNullable<B>> & { query?: Q; body?: B },
  handler: (input: { params: Record<string, string>; query: Infer<Q>; body: Infer<B>; res: Response }) => Promise<unknown>,
): void {
  ctx.docs.add({ ...spec, access: spec.roles });
  const handlers: RequestHandler[] = [ctx.auth.allow(...spec.roles)];
  if (spec.body) handlers.push(jsonBody);
  handlers.push(async (req, res) => {
    const query = (spec.query ? parseWith(spec.query, req.query, 'query') : undefined) as Infer<Q>;
    const body = (spec.body ? parseWith(spec.body, req.body ?? {}, 'body') : undefined) as Infer<B>;
    const answer = await handler({ params: req.params as Record<string, string>, query, body, res });
    if (answer instanceof FileAnswer)
      res
        .status(spec.status ?? 200)
        .type(answer.contentType)
        .attachment(answer.fileName)
        .send(answer.body);
    else if (answer instanceof JsonText)
      res
        .status(spec.status ?? 200)
        .type('json')
        .send(answer.json);
    else res.status(spec.status ?? 200).json(answer);
  });
  app[spec.method](spec.path, ...handlers);
}
