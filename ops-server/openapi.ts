/*
 * The API contract: an OpenAPI 3.1 document built from the express router itself (so no route can
 * be missing from it) and from the zod schemas the routes validate with (z.toJSONSchema, whose
 * default target, JSON Schema 2020-12, is OpenAPI 3.1's schema dialect).
 */
import type express from 'express';
import { z } from 'zod';
import { MaintenanceWindow, ServiceSpec } from '../core/index.ts';
import { commandSchemas } from './commands.ts';
import { AuditQuery } from './routes/audit.ts';
import { LoginBody } from './routes/auth.ts';
import { DeleteDeviceQuery, PublicDevice, RegisterDevice } from './routes/devices.ts';
import { ExportQuery, ImportQuery } from './routes/inventory.ts';
import { AcceptBody, AcceptLinkBody, DiscoveryBody, NeighboursBody } from './routes/discovery.ts';
import { LogExportQuery, LogHistogramQuery, LogsQuery } from './routes/logs.ts';
import { OnCallQuery } from './routes/oncall.ts';
import { EntityQuery, IncidentsQuery } from './routes/soc.ts';
import { AvailabilityQuery, ReportQuery } from './routes/services.ts';
import { EventsQuery, LatestQuery, RangeQuery, SecurityEventsQuery } from './routes/telemetry.ts';
import { NewToken } from './routes/tokens.ts';
import { SetAccount } from './routes/mqtt-credentials.ts';
import { NewUser, UserChange } from './routes/users.ts';

export interface RouteInfo {
  method: string;
  /** Express pattern, e.g. `/api/v1/devices/:id`. */
  path: string;
}

interface LayerLike {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: LayerLike[] };
  rawPath?: unknown;
}

/** Every route the app answers, walked from the router stack (mounted routers included). */
export function listRoutes(app: express.Express): RouteInfo[] {
  const out: RouteInfo[] = [];
  const walk = (stack: LayerLike[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== '_all') out.push({ method: m.toUpperCase(), path: `${prefix}${layer.route.path}` });
      } else if (layer.handle.stack) {
        const at = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, `${prefix}${at}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: LayerLike[] } }).router.stack, '');
  return out;
}

const json = (schema: z.ZodType): unknown => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

/** A request body's schema, less the `required` of the fields the route fills in itself. */
function bodySchema(schema: z.ZodType, filledIn: string[] = []): unknown {
  const s = json(schema) as { required?: string[] };
  if (filledIn.length > 0 && s.required) s.required = s.required.filter((f) => !filledIn.includes(f));
  return s;
}

/** Request schemas by "METHOD path"; routes not listed are still documented, without a schema. */
const BODIES: Record<string, z.ZodType> = {
  'POST /api/v1/auth/login': LoginBody,
  'POST /api/v1/devices': RegisterDevice,
  // The path's id wins; a body id must be the same (routes/devices.ts).
  'PUT /api/v1/devices/:id': RegisterDevice.partial({ id: true }),
  // An RFC 7396 merge patch over the stored device: any of its fields, null removes one.
  'PATCH /api/v1/devices/:id': RegisterDevice.partial(),
  'POST /api/v1/users': NewUser,
  'PATCH /api/v1/users/:username': UserChange,
  'PUT /api/v1/mqtt/accounts/:username': SetAccount,
  'POST /api/v1/tokens': NewToken,
  'POST /api/v1/devices/:id/commands': z.union([commandSchemas.crac, commandSchemas.pdu, commandSchemas.ups]),
  'POST /api/v1/services': ServiceSpec,
  // The path's id wins over the body's (rules/services ServiceBook.replace).
  'PUT /api/v1/services/:id': ServiceSpec.partial({ id: true }),
  'POST /api/v1/services/:id/maintenance': MaintenanceWindow,
  'POST /api/v1/discovery': DiscoveryBody,
  'POST /api/v1/discovery/:id/accept': AcceptBody,
  'POST /api/v1/discovery/neighbours': NeighboursBody,
  'POST /api/v1/discovery/:id/links/accept': AcceptLinkBody,
};
/** Body fields a route fills in when they are left out, so the request need not carry them. */
const FILLED_IN: Record<string, string[]> = {
  // An ad hoc window starts now unless told otherwise (routes/services.ts).
  'POST /api/v1/services/:id/maintenance': ['from'],
};
const QUERIES: Record<string, z.ZodObject> = {
  'GET /api/v1/metrics/latest': LatestQuery,
  'GET /api/v1/metrics/range': RangeQuery,
  'GET /api/v1/events': EventsQuery,
  'GET /api/v1/security-events': SecurityEventsQuery,
  'GET /api/v1/audit': AuditQuery,
  'DELETE /api/v1/devices/:id': DeleteDeviceQuery,
  'POST /api/v1/inventory/import': ImportQuery,
  'GET /api/v1/inventory/export': ExportQuery,
  'GET /api/v1/logs': LogsQuery,
  'GET /api/v1/logs/histogram': LogHistogramQuery,
  'GET /api/v1/logs/export': LogExportQuery,
  'GET /api/v1/entities/:type/:value': EntityQuery,
  'GET /api/v1/incidents': IncidentsQuery,
  'GET /api/v1/services/report': ReportQuery,
  'GET /api/v1/services/:id/availability': AvailabilityQuery,
  'GET /api/v1/oncall': OnCallQuery,
};
/** Answer schemas by "METHOD path", where the shape is part of the contract (devices: secrets shown as set / not set). */
const ANSWERS: Record<string, z.ZodType> = {
  'GET /api/v1/devices': z.array(PublicDevice),
  'GET /api/v1/devices/:id': PublicDevice,
  'PUT /api/v1/devices/:id': PublicDevice,
  'PATCH /api/v1/devices/:id': PublicDevice,
  'GET /api/v1/inventory': z.looseObject({ devices: z.array(PublicDevice) }),
};
const PUBLIC = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics', 'POST /api/v1/auth/login', 'GET /api/v1/openapi.json']);

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }) });

/** The OpenAPI 3.1 document for this app. */
export function openApiDocument(app: express.Express, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of listRoutes(app)) {
    const key = `${r.method} ${r.path}`;
    const oaPath = r.path.replace(/:(\w+)/g, '{$1}');
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = QUERIES[key];
    if (query) {
      const shape = json(query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(shape.properties ?? {})) params.push({ name, in: 'query', required: shape.required?.includes(name) ?? false, schema: schema as { type: string } });
    }
    const body = BODIES[key];
    const answer = ANSWERS[key];
    (paths[oaPath] ??= {})[r.method.toLowerCase()] = {
      operationId: `${r.method.toLowerCase()}${oaPath.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: bodySchema(body, FILLED_IN[key]) } } } } : {}),
      ...(PUBLIC.has(key) || !r.path.startsWith('/api/') ? { security: [] } : {}),
      responses: {
        '200': { description: 'success', ...(answer ? { content: { 'application/json': { schema: json(answer) } } } : {}) },
        default: { description: 'an error, in the one error shape', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Watchfloor API', version, description: 'NOC/SOC operations center. Errors: {error: {code, message, field?}}.' },
    servers: [{ url: '/' }],
    components: {
      schemas: { Error: json(ErrorBody) },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'wf_session', description: 'state changes also need the X-CSRF-Token header from login' },
        token: { type: 'http', scheme: 'bearer', description: 'an API token from POST /api/v1/tokens' },
      },
    },
    security: [{ session: [] }, { token: [] }],
    paths,
  };
}
