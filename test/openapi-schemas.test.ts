import express from 'express';
import { describe, expect, it } from 'vitest';
import { silentLogger, type Estate } from '../core/index.ts';
import { openApiDocument } from '../ops-server/openapi.ts';
import { logRoutes } from '../ops-server/routes/logs.ts';
import { serviceRoutes, statusRoutes } from '../ops-server/routes/services.ts';
import type { ServiceBook } from '../rules/index.ts';
import type { LogStore } from '../store/index.ts';

type Operation = { parameters?: { name: string; in: string; required: boolean }[]; requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> }; security?: unknown[] };

/** The OpenAPI document of an app with the log and service routes mounted as http.ts mounts them (routes are only listed, never called). */
function document(): Record<string, Record<string, Operation>> {
  const app = express();
  const ctx = { clock: { now: () => 0 }, logger: silentLogger, estate: {} as Estate };
  app.use(statusRoutes({} as ServiceBook, ctx));
  const api = express.Router();
  api.use(logRoutes({} as LogStore, ctx));
  api.use(serviceRoutes({} as ServiceBook, ctx));
  app.use('/api/v1', api);
  return (openApiDocument(app, '1') as { paths: Record<string, Record<string, Operation>> }).paths;
}

const queryNames = (op: Operation | undefined): string[] => (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
const body = (op: Operation | undefined) => op?.requestBody?.content['application/json']?.schema;

describe('OpenAPI: the log and service routes', () => {
  const paths = document();

  it('documents the log search, histogram and export queries from their zod schemas', () => {
    expect(queryNames(paths['/api/v1/logs']?.get)).toEqual(expect.arrayContaining(['q', 'host', 'device', 'program', 'severity', 'since', 'until', 'limit']));
    expect(queryNames(paths['/api/v1/logs/histogram']?.get)).toEqual(expect.arrayContaining(['severity', 'step']));
    expect(queryNames(paths['/api/v1/logs/export']?.get)).toEqual(expect.arrayContaining(['format', 'limit']));
  });

  it('documents the service queries, with the report month required and the path id as a parameter', () => {
    const report = paths['/api/v1/services/report']?.get;
    expect(queryNames(report)).toEqual(expect.arrayContaining(['month', 'format', 'lang', 'tz', 'service']));
    expect(report?.parameters?.find((p) => p.name === 'month')?.required).toBe(true);
    const availability = paths['/api/v1/services/{id}/availability']?.get;
    expect(availability?.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path', required: true }), expect.objectContaining({ name: 'from', in: 'query' })]));
  });

  it('documents the service bodies: id required on create, not on replace (the path wins), maintenance from filled in', () => {
    expect(body(paths['/api/v1/services']?.post)?.required).toEqual(expect.arrayContaining(['id', 'name']));
    expect(body(paths['/api/v1/services']?.post)?.properties).toHaveProperty('checks');
    expect(body(paths['/api/v1/services/{id}']?.put)?.required ?? []).not.toContain('id');
    const window = body(paths['/api/v1/services/{id}/maintenance']?.post);
    expect(window?.required).toEqual(['to']);
    expect(window?.properties).toHaveProperty('from');
  });

  it('marks the public status page as needing no login, and the API routes as needing one', () => {
    expect(paths['/status']?.get?.security).toEqual([]);
    expect(paths['/status.json']?.get?.security).toEqual([]);
    expect(paths['/api/v1/services']?.get?.security).toBeUndefined();
    expect(paths['/api/v1/logs']?.get?.security).toBeUndefined();
  });
});
