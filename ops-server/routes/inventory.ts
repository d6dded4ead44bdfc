import express, { Router } from 'express';
import { z } from 'zod';
import { badRequest, wfError } from '../../core/index.ts';
import { audit } from '../audit.ts';
import type { OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import { exportInventoryYaml } from '../inventory-export.ts';
import { parseImport, planImport, type ImportDiff } from '../inventory-import.ts';
import { parseInput } from '../validate.ts';

/** The largest import body: some 20,000 CSV rows, or a NetBox export of a few thousand devices. */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

export const ImportQuery = z.strictObject({
  dryRun: z.enum(['true', 'false']).default('true').describe('true (default): answer the diff only; false: apply it (nothing is applied when a row has an error)'),
  format: z.enum(['csv', 'netbox']).optional().describe('default: NetBox for a JSON body, CSV otherwise'),
  snmpProfile: z.string().min(1).optional().describe('NetBox: the snmpProfiles entry devices with a primary IP are polled with'),
});

export const ExportQuery = z.strictObject({
  secrets: z.enum(['true', 'false']).default('false').describe('true: include SNMP communities and v3 keys (audited); by default they are left out, as in every answer'),
});

/** The answer of an import: the diff, and with dryRun=false what was applied. */
export type ImportAnswer = ImportDiff & { dryRun: boolean; applied?: { added: number; changed: number } };

/** Bulk import (CSV, NetBox) with a dry run, and the running inventory exported as YAML: admins only. */
export function inventoryRoutes(ctx: OpsContext): Router {
  const r = Router();
  r.post(
    '/inventory/import',
    requireRole('admin'),
    // CSV (text/csv) and big NetBox exports (any text type) come as text; a small NetBox JSON body was parsed by express.json.
    express.text({ type: ['text/*', 'application/csv', 'application/octet-stream'], limit: MAX_IMPORT_BYTES }),
    route(async (req, res) => {
      const q = parseInput(ImportQuery, req.query, 'query');
      const text = typeof req.body === 'string' ? req.body : req.body !== undefined && Object.keys(req.body as object).length > 0 ? JSON.stringify(req.body) : '';
      if (text.trim() === '') throw badRequest('(body)', '(body): send the CSV (Content-Type: text/csv) or the NetBox export (JSON) to import');
      const { format, parsed } = parseImport(text, { format: q.format, snmpProfile: q.snmpProfile });
      const plan = planImport(ctx.estate, format, parsed);
      const dryRun = q.dryRun === 'true';
      if (dryRun || plan.diff.errors.length > 0) {
        // With errors nothing is applied: the same diff, 400 when apply was asked for.
        res.status(dryRun ? 200 : 400).json({ dryRun, ...plan.diff } satisfies ImportAnswer);
        return;
      }
      if (plan.change.length > 0 && !ctx.updateDevice) throw wfError('UNAVAILABLE', 'devices cannot be changed in this deployment');
      for (const d of plan.add) await ctx.registerDevice(d, undefined);
      for (const d of plan.change) await ctx.updateDevice?.(d);
      const applied = { added: plan.add.length, changed: plan.change.length };
      audit(req, { action: 'inventory.import', target: format, detail: { ...applied, added: plan.add.map((d) => d.id), changed: plan.change.map((d) => d.id) } });
      res.json({ dryRun, ...plan.diff, applied } satisfies ImportAnswer);
    }),
  );
  r.get(
    '/inventory/export',
    requireRole('admin'),
    route(async (req, res) => {
      const secrets = parseInput(ExportQuery, req.query, 'query').secrets === 'true';
      // An export with the SNMP secrets: who took one is in the audit log.
      audit(req, { action: 'inventory.export', target: 'inventory', detail: { devices: ctx.estate.devices.size, secrets } });
      res.type('application/yaml').set('content-disposition', 'attachment; filename="inventory.yaml"').send(exportInventoryYaml(ctx.estate, ctx.clock.now(), { secrets }));
    }),
  );
  return r;
}
