/**
 * The province's e-government services served for real on loopback: four HTTPS sites with
 * certificates from a private CA made at start, an SMTP greeting for e-mail and an authoritative DNS
 * responder for the zone; and the faults a scenario switches on and off (a slow portal, a portal
 * answering 500, a certificate days from expiry, DNS answering the wrong address, a hypervisor host
 * failing and taking its VMs' services down together).
 */
import type { Server as TlsServer } from 'node:https';
import { silentLogger, wfFieldError, type InventoryInput, type Logger } from '../../core/index.ts';
import { buildSampleInventory } from '../sample-estate.ts';
import { dependenciesOf, hostsOfVms, SERVICE_CATALOGUE, type EndpointId, type ServiceEntry } from './catalogue.ts';
import { makeEstateCertificates, type KeyPair } from './certs.ts';
import { startDnsResponder, type DnsResponder } from './dns-responder.ts';
import { Endpoint } from './endpoint.ts';
import { smtpServer } from './smtp.ts';
import { webServer, type WebFaults, type WebSiteId } from './web.ts';

export const SERVICE_ESTATE_DEFAULTS = {
  domain: 'tinh.gov.vn',
  slowMs: 3000,
  expiringDays: 10,
  /** TEST-NET-1 (RFC 5737): an address that is nobody's, as a stale record would give. */
  wrongAddress: '192.0.2.66',
  /** The host under two services and nothing else (document management and e-mail in the sample). */
  failingHost: 'cloud-host-3',
  /** The portal's http check fails over this; the slow fault is above it. */
  maxLatencyMs: 2000,
} as const;

/** The faults by name; `host-down:<host id>` fails any other hypervisor host. */
export type ServiceFault = 'portal-slow' | 'portal-500' | 'cert-expiring' | 'dns-wrong' | 'host-down' | `host-down:${string}`;

export interface ServiceEstateOptions {
  logger?: Logger;
  /** A port per service (0 or absent: a free one). */
  ports?: Partial<Record<EndpointId, number>>;
  domain?: string;
  slowMs?: number;
  expiringDays?: number;
  wrongAddress?: string;
  failingHost?: string;
  /** Where the VMs, hosts and links come from; the bundled sample by default. */
  inventory?: InventoryInput;
  /**
   * Adds an `snmp` check (sysUpTime.0) per VM a service runs on, from the VM's inventory `snmp` block,
   * for when the SNMP estate (simulators/snmp) plays the VMs; `ports` are its moved ports by device.
   * Off by default: this folder does not start those agents.
   */
  snmpChecks?: boolean | { ports?: ReadonlyMap<string, number> };
}

/** A service ready for the inventory (core ServiceSpec): checks as collectors/checks parseCheck takes them. */
export interface SimulatedService {
  id: EndpointId;
  name: string;
  owner: string;
  public: boolean;
  slo: { availabilityPct: number; windowDays: number };
  dependsOn: string[];
  checks: Record<string, unknown>[];
}

export interface ServiceEndpointInfo {
  id: EndpointId;
  /** Its DNS name in the zone. */
  host: string;
  protocol: 'https' | 'smtp' | 'dns';
  port: number;
}

export interface FaultInfo {
  name: ServiceFault;
  description: string;
  /** Services whose checks it fails (or warns). */
  services: EndpointId[];
  /** Inventory devices that go dark with it (a host failure: the host and its VMs), for the SNMP side to follow. */
  devices: string[];
}

export interface ServiceEstate {
  readonly services: readonly SimulatedService[];
  /** The private CA (PEM) every https and tls check trusts. */
  readonly ca: string;
  readonly domain: string;
  readonly endpoints: readonly ServiceEndpointInfo[];
  /** The named faults; `host-down:<id>` works for every host of the inventory too. */
  readonly faults: readonly FaultInfo[];
  /** Switches a fault; resolves once it is in force (a failed host's ports closed, or listening again). */
  fault(name: ServiceFault, on: boolean): Promise<void>;
  activeFaults(): ServiceFault[];
  stop(): Promise<void>;
}

const DOMAIN = /^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

/** The checks of one service against its loopback port, trusting the estate's CA. */
function checksOf(e: ServiceEntry, host: string, port: number, ca: string, dnsPort: number, domain: string): Record<string, unknown>[] {
  const tls = { type: 'tls', id: 'certificate', host: '127.0.0.1', port, servername: host, ca, intervalSeconds: 60 };
  const http = (path: string, expect: Record<string, unknown>): Record<string, unknown> => ({ type: 'http', id: 'https', url: `https://127.0.0.1:${port}${path}`, tls: { ca, servername: host }, expect, intervalSeconds: 30, timeoutSeconds: 10 });
  switch (e.id) {
    case 'portal':
      return [http('/', { status: 200, body: 'Đăng nhập', maxLatencyMs: SERVICE_ESTATE_DEFAULTS.maxLatencyMs }), tls];
    case 'document-mgmt':
      return [http('/', { status: 200, body: 'Quản lý văn bản' }), tls];
    case 'lgsp':
      return [http('/health', { status: 200, json: { path: '$.status', equals: 'UP' } }), tls];
    case 'web-portal':
      return [http('/', { status: 200, body: 'Cổng thông tin điện tử' }), tls];
    case 'email':
      return [{ type: 'tcp', id: 'smtp', host: '127.0.0.1', port, expect: { banner: `220 ${host} ESMTP` }, intervalSeconds: 30 }];
    case 'dns': {
      const a = (id: string, name: string): Record<string, unknown> => ({ type: 'dns', id, name, recordType: 'A', server: `127.0.0.1:${dnsPort}`, expect: { answers: ['127.0.0.1'], exact: true }, intervalSeconds: 30, timeoutSeconds: 5 });
      return [a('a-portal', `dichvucong.${domain}`), a('a-mail', `mail.${domain}`), a('a-www', `www.${domain}`)];
    }
  }
}

/** One `snmp` check per VM of the entry that has an `snmp` block: is the VM's agent answering. */
function vmSnmpChecks(e: ServiceEntry, inventory: InventoryInput, ports?: ReadonlyMap<string, number>): Record<string, unknown>[] {
  return e.runsOn.flatMap((vm) => {
    const s = (inventory.devices ?? []).find((d) => d.id === vm)?.snmp;
    if (!s) return [];
    const target: Record<string, unknown> = { host: s.host, port: ports?.get(vm) ?? s.port ?? 161, version: s.version ?? '2c' };
    if (s.community !== undefined) target.community = s.community;
    if (s.v3) target.v3 = s.v3;
    return [{ type: 'snmp', id: `snmp-${vm}`, ...target, intervalSeconds: 60, timeoutSeconds: 5 }];
  });
}

/** Starts every service of the catalogue on 127.0.0.1; a port that cannot be bound rejects, with nothing left running. */
export async function startServiceEstate(o: ServiceEstateOptions = {}): Promise<ServiceEstate> {
  const logger = o.logger ?? silentLogger;
  const domain = (o.domain ?? SERVICE_ESTATE_DEFAULTS.domain).toLowerCase();
  if (!DOMAIN.test(domain)) throw wfFieldError('SIMULATOR_OPTIONS', 'domain', `"${domain}" is not a DNS domain such as tinh.gov.vn`);
  const slowMs = o.slowMs ?? SERVICE_ESTATE_DEFAULTS.slowMs;
  const wrongAddress = o.wrongAddress ?? SERVICE_ESTATE_DEFAULTS.wrongAddress;
  const failingHost = o.failingHost ?? SERVICE_ESTATE_DEFAULTS.failingHost;
  const inventory = o.inventory ?? buildSampleInventory();
  const vmHost = hostsOfVms(inventory);
  const hostIds = new Set((inventory.devices ?? []).filter((d) => d.kind === 'host').map((d) => d.id));
  const nameOf = (e: ServiceEntry): string => (e.label ? `${e.label}.${domain}` : domain);
  const https = SERVICE_CATALOGUE.filter((e) => e.kind === 'https');
  const portalHost = `dichvucong.${domain}`;

  const pki = await makeEstateCertificates({ names: https.map(nameOf), expiringNames: [portalHost], expiringDays: o.expiringDays ?? SERVICE_ESTATE_DEFAULTS.expiringDays, organization: `Watchfloor simulated ${domain}` });
  const active = new Set<ServiceFault>();
  const downHosts = new Set<string>();
  const webFaults = (id: WebSiteId) => (): WebFaults => ({
    delayMs: id === 'portal' && active.has('portal-slow') ? slowMs : 0,
    error: id === 'portal' && active.has('portal-500'),
  });

  const endpoints = new Map<EndpointId, { entry: ServiceEntry; endpoint: Endpoint }>();
  const webServers = new Map<EndpointId, TlsServer>();
  let dns: DnsResponder | undefined;
  const stopAll = async (): Promise<void> => {
    await Promise.all([...endpoints.values()].map((x) => x.endpoint.down()));
    await dns?.close();
    dns = undefined;
  };
  try {
    for (const e of SERVICE_CATALOGUE) {
      if (e.kind === 'dns') continue;
      const host = nameOf(e);
      let server;
      if (e.kind === 'https') {
        server = webServer(e.id as WebSiteId, host, pki.leaves.get(host) as KeyPair, webFaults(e.id as WebSiteId));
        webServers.set(e.id, server);
      } else {
        server = smtpServer(host);
      }
      const endpoint = new Endpoint(e.id, server);
      endpoints.set(e.id, { entry: e, endpoint });
      await endpoint.listen(o.ports?.[e.id] ?? 0);
    }
    // The zone's A records: every service name and the zone itself on loopback; the portal's is the one the fault changes.
    const names = new Set([domain, ...SERVICE_CATALOGUE.map(nameOf)]);
    dns = await startDnsResponder({
      zone: domain,
      port: o.ports?.dns ?? 0,
      lookup: (name) => (!names.has(name) ? undefined : name === portalHost && active.has('dns-wrong') ? [wrongAddress] : ['127.0.0.1']),
    });
  } catch (err) {
    await stopAll();
    throw err;
  }
  const dnsPort = dns.port;
  const portOf = (id: EndpointId): number => (id === 'dns' ? dnsPort : (endpoints.get(id)?.endpoint.boundPort ?? 0));

  const snmpPorts = typeof o.snmpChecks === 'object' ? o.snmpChecks.ports : undefined;
  const services: SimulatedService[] = SERVICE_CATALOGUE.map((e) => ({
    id: e.id,
    name: e.name,
    owner: e.owner,
    public: e.public,
    slo: e.slo,
    dependsOn: dependenciesOf(e, vmHost),
    checks: [...checksOf(e, nameOf(e), portOf(e.id), pki.ca, dnsPort, domain), ...(o.snmpChecks ? vmSnmpChecks(e, inventory, snmpPorts) : [])],
  }));
  const endpointInfo: ServiceEndpointInfo[] = SERVICE_CATALOGUE.map((e) => ({ id: e.id, host: nameOf(e), protocol: e.kind, port: portOf(e.id) }));

  /** Services off the network when `hosts` are down: every VM they run on sits on one of them. */
  const strandedBy = (hosts: ReadonlySet<string>): ServiceEntry[] =>
    SERVICE_CATALOGUE.filter((e) => e.runsOn.length > 0 && e.runsOn.every((vm) => hosts.has(vmHost.get(vm) ?? '')));
  const hostFault = (host: string): FaultInfo => ({
    name: host === failingHost ? 'host-down' : `host-down:${host}`,
    description: `hypervisor host ${host} fails: ${strandedBy(new Set([host])).map((e) => e.name).join(' and ') || 'no service loses every VM'} ${strandedBy(new Set([host])).length > 1 ? 'go down together' : ''}`.trim(),
    services: strandedBy(new Set([host])).map((e) => e.id),
    devices: [host, ...[...vmHost].filter(([, h]) => h === host).map(([vm]) => vm)],
  });
  const faults: FaultInfo[] = [
    { name: 'portal-slow', description: `the public-service portal answers ${slowMs / 1000} s late`, services: ['portal'], devices: [] },
    { name: 'portal-500', description: 'the public-service portal answers 500 Internal Server Error', services: ['portal'], devices: [] },
    { name: 'cert-expiring', description: `the public-service portal serves a certificate that expires in ${o.expiringDays ?? SERVICE_ESTATE_DEFAULTS.expiringDays} days`, services: ['portal'], devices: [] },
    { name: 'dns-wrong', description: `DNS answers ${wrongAddress} for ${portalHost}`, services: ['dns'], devices: [] },
    ...(hostIds.has(failingHost) ? [hostFault(failingHost)] : []),
  ];

  const applyHosts = async (): Promise<void> => {
    const stranded = new Set(strandedBy(downHosts).map((e) => e.id));
    await Promise.all([...endpoints].map(([id, { endpoint }]) => (stranded.has(id) ? endpoint.down() : endpoint.listen())));
  };
  let stopped = false;
  let queue: Promise<void> = Promise.resolve();

  return {
    services,
    ca: pki.ca,
    domain,
    endpoints: endpointInfo,
    faults,
    async fault(asked, on) {
      if (stopped) return;
      const host = asked === 'host-down' ? failingHost : asked.startsWith('host-down:') ? asked.slice('host-down:'.length) : undefined;
      const known = ['portal-slow', 'portal-500', 'cert-expiring', 'dns-wrong'].includes(asked) || (host !== undefined && hostIds.has(host));
      if (!known) {
        throw wfFieldError('SIMULATOR_OPTIONS', 'fault', `unknown fault "${asked}"; faults: ${faults.map((f) => f.name).join(', ')}, host-down:<host id> (${[...hostIds].join(', ')})`);
      }
      // One name per host, whichever way it was asked for.
      const name: ServiceFault = host === undefined ? asked : host === failingHost ? 'host-down' : `host-down:${host}`;
      if (on) active.add(name);
      else active.delete(name);
      logger.info({ fault: name, on }, `simulated services: ${name} ${on ? 'on' : 'off'}`);
      if (name === 'cert-expiring') {
        // New handshakes get the other certificate; the server keeps listening.
        webServers.get('portal')?.setSecureContext((on ? pki.expiring : pki.leaves).get(portalHost) as KeyPair);
      }
      if (host !== undefined) {
        if (on) downHosts.add(host);
        else downHosts.delete(host);
        // One host change at a time, so two calls never close and reopen the same port at once.
        const next = queue.then(applyHosts);
        queue = next.catch(() => undefined);
        await next;
      }
    },
    activeFaults: () => [...active],
    async stop() {
      stopped = true;
      await queue;
      await stopAll();
    },
  };
}
