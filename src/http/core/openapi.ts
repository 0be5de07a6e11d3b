/** The OpenAPI 3.1 document, built from the same route declarations that validate requests. */
import { z } from 'zod';
import type { OpenApiOperation } from './route.js';

export function openApiDocument(operations: readonly OpenApiOperation[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = op.query ? queryParams(op.query) : [];
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(op.permission ? { 'x-permission': op.permission } : {}),
      ...(op.auth ? {} : { security: [] }),
      ...(params.length + query.length ? { parameters: [...params, ...query] } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } } : {}),
      responses: {
        200: { description: 'OK' },
        ...(op.body || op.query ? { 422: { description: 'Validation error, in the dialect\'s shape' } } : {}),
        ...(op.auth ? { 401: { description: 'No valid credential' } } : {}),
        ...(op.permission ? { 403: { description: `Needs the ${op.permission} permission` } } : {}),
        429: { description: 'Rate limited (Retry-After)' },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Relais SMS gateway API', version, description: 'The API dialects served by Relais (tags name the dialect). Bearer: an access token from a login endpoint, or an API key.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

function jsonSchema(schema: z.ZodType): unknown {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function queryParams(schema: z.ZodType) {
  const js = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: js.required?.includes(name) ?? false, schema: s }));
}
