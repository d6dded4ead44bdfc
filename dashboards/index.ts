import { fileURLToPath } from 'node:url';

/** The built web UI (dashboards/web, built by `npm run build:ui`), served by the ops server. */
export const publicDir = fileURLToPath(new URL('./public', import.meta.url));
export { Dashboard, PANEL_TYPES, type Panel, type PanelType } from './grafana/model.ts';
export { builtinDashboards, influxql, linkedInterfaces, type LinkedInterfaces } from './builtin.ts';
export { toGrafanaJson } from './grafana/export.ts';
export { importGrafana, importGrafanaText, renderBuilderTarget, DashboardImportError, type ImportNote, type ImportResult } from './grafana/import.ts';
export { runDashboardsCommand } from './cli.ts';
