/*
 * The product's built-in dashboards, defined once in the Grafana model. Their queries are InfluxQL over
 * the /query mapping (measurement = device kind, field = metric, tags = inventory tags), so the same
 * JSON charts Watchfloor's own /query and an InfluxDB filled by Watchfloor's InfluxDB writer.
 */
import type { Link } from '../core/index.ts';
import { Dashboard, type DashboardInput, type Variable } from './grafana/model.ts';

type PanelInput = DashboardInput['panels'][number];

const W = 24;
let nextId = 1;

/** `SELECT agg("field") FROM "measurement" WHERE <tag filters> AND $timeFilter GROUP BY time($__interval), <tags> fill(null)`. */
export function influxql(measurement: string, field: string, opts: { agg?: string; where?: string[]; groupBy?: string[]; alias?: string } = {}): string {
  const agg = opts.agg ?? 'mean';
  const where = [...(opts.where ?? []), '$timeFilter'].join(' AND ');
  const groupBy = ['time($__interval)', ...(opts.groupBy ?? []).map((t) => `"${t}"`)].join(', ');
  return `SELECT ${agg}("${field}") AS "${opts.alias ?? field}" FROM "${measurement}" WHERE ${where} GROUP BY ${groupBy} fill(null)`;
}

/**
 * One query per interface of `metric` (`if_in_bps`, `if_out_bps`, `if_oper_status`), each series
 * named by the interface. The SNMP collector publishes a field per interface (`if_in_bps.Gi0_0_0`,
 * already in bits/s, see collectors/snmp/metric-names.ts) and InfluxQL selects fields by name, not by
 * pattern, so a panel names the interfaces it charts: those the inventory's links name.
 */
function perInterface(measurement: string, metric: string, interfaces: readonly string[], agg = 'mean'): string[] {
  return interfaces.map((name) => influxql(measurement, `${metric}.${ifDimension(name)}`, { agg, alias: name, groupBy: ['device'] }));
}

/**
 * The suffix the SNMP collector gives an interface's metrics: `Gi0/0/1` -> `Gi0_0_1`. The rule is
 * collectors/snmp/metric-names.ts `dimension`; this copy is for the dashboards and the browser bundle,
 * which cannot take the collectors' door (it loads net-snmp).
 */
export const ifDimension = (name: string): string => name.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');

/** The interfaces the inventory's links name, by the kind of device at that end: what the network panels chart. */
export interface LinkedInterfaces {
  router: string[];
  switch: string[];
  firewall: string[];
}

/** Reads the linked interfaces of routers, switches and firewalls from an inventory's links (sorted, each name once per kind). */
export function linkedInterfaces(inventory: { links: readonly Link[]; devices: Iterable<{ id: string; kind: string }> }): LinkedInterfaces {
  const kindOf = new Map<string, string>();
  for (const d of inventory.devices) kindOf.set(d.id, d.kind);
  const out: Record<keyof LinkedInterfaces, Set<string>> = { router: new Set(), switch: new Set(), firewall: new Set() };
  for (const link of inventory.links) {
    for (const end of [link.a, link.b]) {
      const kind = end.device === undefined ? undefined : kindOf.get(end.device);
      if (end.interface && (kind === 'router' || kind === 'switch' || kind === 'firewall')) out[kind].add(end.interface);
    }
  }
  const sorted = (set: Set<string>): string[] => [...set].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return { router: sorted(out.router), switch: sorted(out.switch), firewall: sorted(out.firewall) };
}

const roomFilter = `("room" =~ /^$room$/)`;

function panel(type: 'timeseries' | 'stat' | 'gauge' | 'bargauge' | 'table', title: string, queries: string[], pos: { x: number; y: number; w: number; h: number }, unit?: string, steps?: { color: string; value: number | null }[]): PanelInput {
  return {
    id: nextId++,
    type,
    title,
    gridPos: pos,
    targets: queries.map((query, i) => ({ refId: String.fromCharCode(65 + i), query, resultFormat: type === 'table' ? 'table' : 'time_series' })),
    fieldConfig: { defaults: { ...(unit ? { unit } : {}), ...(steps ? { thresholds: { mode: 'absolute', steps } } : {}) } },
  };
}

const row = (title: string, y: number): PanelInput => ({ id: nextId++, type: 'row', title, gridPos: { x: 0, y, w: W, h: 1 }, collapsed: false });

const roomVariable: Variable = {
  name: 'room',
  type: 'query',
  label: 'Room',
  query: 'SHOW TAG VALUES WITH KEY = "room"',
  multi: true,
  includeAll: true,
  refresh: 1,
  hide: 0,
  options: [],
  current: { text: 'All', value: '$__all' },
};

const temperatureSteps = [
  { color: 'green', value: null },
  { color: 'orange', value: 27 },
  { color: 'red', value: 32 },
];

function define(d: DashboardInput): Dashboard {
  nextId = 1;
  return Dashboard.parse({ ...d, panels: d.panels.map((p) => ({ ...p, id: nextId++ })) });
}

/**
 * The four built-in dashboards: data center environment, power and cooling, network, security. The
 * network panels chart `linked` (from `linkedInterfaces(inventory)`); a kind with none gets no panel.
 */
export function builtinDashboards(linked: LinkedInterfaces): Dashboard[] {
  const ifPanel = (title: string, kind: keyof LinkedInterfaces, metric: string, pos: { x: number; y: number; w: number; h: number }, unit?: string, agg?: string): PanelInput[] =>
    linked[kind].length === 0 ? [] : [panel('timeseries', title, perInterface(kind, metric, linked[kind], agg), pos, unit)];
  return [
    define({
      uid: 'wf-environment',
      title: 'Data center environment',
      tags: ['watchfloor', 'environment'],
      templating: { list: [roomVariable] },
      panels: [
        row('Temperature and humidity at every rack position', 0),
        panel('timeseries', 'Rack inlet temperature', [influxql('sensor', 'temperature', { where: [roomFilter], groupBy: ['rack', 'position'] })], { x: 0, y: 1, w: 16, h: 9 }, 'celsius', temperatureSteps),
        panel('gauge', 'Hottest inlet now', [influxql('sensor', 'temperature', { agg: 'max', where: [roomFilter] })], { x: 16, y: 1, w: 8, h: 9 }, 'celsius', temperatureSteps),
        panel('timeseries', 'Relative humidity', [influxql('sensor', 'humidity', { where: [roomFilter], groupBy: ['rack'] })], { x: 0, y: 10, w: 16, h: 8 }, 'humidity'),
        panel('table', 'Latest readings by sensor', [influxql('sensor', 'temperature', { agg: 'last', where: [roomFilter], groupBy: ['device', 'rack', 'position'] })], { x: 16, y: 10, w: 8, h: 8 }, 'celsius'),
      ],
    }),
    define({
      uid: 'wf-power-cooling',
      title: 'Power and cooling',
      tags: ['watchfloor', 'power', 'cooling'],
      templating: { list: [roomVariable] },
      panels: [
        row('Power', 0),
        panel('timeseries', 'PDU power by rack', [influxql('pdu', 'power_kw', { where: [roomFilter], groupBy: ['rack'] })], { x: 0, y: 1, w: 12, h: 8 }, 'kwatt'),
        panel('bargauge', 'UPS load', [influxql('ups', 'load_pct', { agg: 'last', groupBy: ['device'] })], { x: 12, y: 1, w: 6, h: 8 }, 'percent', [
          { color: 'green', value: null },
          { color: 'orange', value: 70 },
          { color: 'red', value: 90 },
        ]),
        panel('stat', 'UPS runtime', [influxql('ups', 'runtime_min', { agg: 'last', groupBy: ['device'] })], { x: 18, y: 1, w: 6, h: 8 }, 'm'),
        row('Cooling', 9),
        panel('timeseries', 'CRAC supply and return air', [influxql('crac', 'supply_temp', { groupBy: ['device'] }), influxql('crac', 'return_temp', { groupBy: ['device'] })], { x: 0, y: 10, w: 24, h: 8 }, 'celsius'),
      ],
    }),
    define({
      uid: 'wf-network',
      title: 'Network',
      tags: ['watchfloor', 'network'],
      panels: [
        ...ifPanel('Switch links in (bits/s)', 'switch', 'if_in_bps', { x: 0, y: 0, w: 12, h: 9 }, 'bps'),
        ...ifPanel('Switch links out (bits/s)', 'switch', 'if_out_bps', { x: 12, y: 0, w: 12, h: 9 }, 'bps'),
        ...ifPanel('Router links in (bits/s)', 'router', 'if_in_bps', { x: 0, y: 9, w: 12, h: 8 }, 'bps'),
        ...ifPanel('Router links out (bits/s)', 'router', 'if_out_bps', { x: 12, y: 9, w: 12, h: 8 }, 'bps'),
        // IF-MIB ifOperStatus: 1 up, 2 down, 7 lowerLayerDown; max() so a spell down within a bucket shows.
        ...ifPanel('Router link status (1 = up, 2 = down)', 'router', 'if_oper_status', { x: 0, y: 17, w: 24, h: 6 }, undefined, 'max'),
      ],
    }),
    define({
      uid: 'wf-security',
      title: 'Security',
      tags: ['watchfloor', 'security'],
      panels: [
        {
          id: 0,
          type: 'text',
          title: 'About',
          gridPos: { x: 0, y: 0, w: 24, h: 3 },
          options: { mode: 'markdown', content: 'Physical security sensors (doors, smoke, water) and firewalls. Security alerts themselves are triaged in Watchfloor\'s SOC view.' },
        },
        panel('timeseries', 'Door and contact sensors (1 = open)', [influxql('sensor', 'state', { agg: 'max', groupBy: ['device'] })], { x: 0, y: 3, w: 12, h: 8 }),
        ...ifPanel('Firewall traffic in (bits/s)', 'firewall', 'if_in_bps', { x: 12, y: 3, w: 12, h: 8 }, 'bps'),
      ],
    }),
  ];
}
