/*
 * The province's e-government services at `start --simulate` (issue 16, "the sample comes alive"):
 * simulators/services serves them for real on loopback, their services go into the book (read-only
 * through the API, like the inventory's), and now and then a fault is switched on for a while, so the
 * Services view and /status move: a slow portal, a 500, the expiring certificate, DNS answering the
 * wrong address, a hypervisor host failing and taking two services down.
 */
import type { Estate, Logger } from '../core/index.ts';
import { startAgent, startServiceEstate, type ServiceEstate, type ServiceFault, type SimulatedAgent, type SnmpEstate } from '../simulators/index.ts';
import type { ProductServices } from './services.ts';

/** When the demo switches faults: the first after `firstMs`, each on for `onMs`, then `offMs` of calm. */
export interface ServiceFaultCycle {
  firstMs: number;
  onMs: number;
  offMs: number;
}

export const SERVICE_FAULT_CYCLE: ServiceFaultCycle = { firstMs: 180_000, onMs: 150_000, offMs: 150_000 };

/** The faults in the order the demo plays them. */
const DEMO_FAULTS: readonly ServiceFault[] = ['portal-slow', 'cert-expiring', 'portal-500', 'dns-wrong', 'host-down'];

/** The simulated services and the demo's fault cycle. */
export class ServiceDemo {
  private estate: ServiceEstate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private next = 0;
  private current: ServiceFault | undefined;

  /** Agents started again after a host failure ended (the estate's own were closed by it). */
  private readonly restarted = new Map<string, SimulatedAgent>();

  /** `snmp`: the simulated SNMP agents, so a failed host and its VMs go silent to the poller too. */
  constructor(private readonly o: { estate: Estate; logger: Logger; snmp?: () => SnmpEstate | undefined }) {}

  get services(): ServiceEstate | undefined {
    return this.estate;
  }

  /** Serves the services, puts them in the book (dependencies the inventory lacks left out) and starts the cycle (unless `cycle` is false). */
  async start(book: ProductServices, cycle: ServiceFaultCycle | false = SERVICE_FAULT_CYCLE): Promise<ServiceEstate> {
    if (this.estate) return this.estate;
    const { estate: product, logger } = this.o;
    this.estate = await startServiceEstate({ logger, inventory: product.inventory });
    const known = (id: string): boolean => product.devices.has(id) || product.inventory.links.some((l) => l.id === id);
    const added = book.addBuiltIn(this.estate.services.map((s) => ({ ...s, dependsOn: s.dependsOn.filter(known) })));
    logger.info({ services: added.map((s) => s.id), endpoints: this.estate.endpoints.map((e) => `${e.id}:${e.port}`) }, 'simulated e-government services started');
    if (cycle) this.schedule(cycle, cycle.firstMs);
    return this.estate;
  }

  private schedule(cycle: ServiceFaultCycle, ms: number): void {
    this.timer = setTimeout(() => void this.step(cycle), ms);
    this.timer.unref();
  }

  /** Switches the current fault off, or the next one on; a failure is logged and the cycle goes on. */
  private async step(cycle: ServiceFaultCycle): Promise<void> {
    const estate = this.estate;
    if (!estate) return;
    try {
      if (this.current) {
        await this.silence(this.current, false);
        await estate.fault(this.current, false);
        this.current = undefined;
        this.schedule(cycle, cycle.offMs);
        return;
      }
      const fault = DEMO_FAULTS[this.next++ % DEMO_FAULTS.length] as ServiceFault;
      const about = estate.faults.find((f) => f.name === fault);
      this.o.logger.info({ fault, services: about?.services }, `demo: ${about?.description ?? fault}`);
      await estate.fault(fault, true);
      await this.silence(fault, true);
      this.current = fault;
      this.schedule(cycle, cycle.onMs);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'demo: a service fault could not be switched');
      if (this.estate) this.schedule(cycle, cycle.offMs);
    }
  }

  /**
   * A host failure's devices (the host and its VMs) stop answering SNMP, so the poller calls them
   * offline and the services' alerts name them; back on the same ports when it ends.
   */
  private async silence(fault: ServiceFault, on: boolean): Promise<void> {
    const devices = this.estate?.faults.find((f) => f.name === fault)?.devices ?? [];
    const agents = this.o.snmp?.();
    if (!agents || devices.length === 0) return;
    for (const id of devices) {
      const played = agents.devices.get(id);
      const snmp = this.o.estate.devices.get(id)?.snmp;
      if (!played || !snmp) continue;
      if (on) {
        await (this.restarted.get(id) ?? played.agent).close();
        this.restarted.delete(id);
      } else {
        this.restarted.set(id, await startAgent(played.agent.store, { port: played.port, address: '127.0.0.1', community: snmp.community ?? 'public', v3: snmp.v3 }));
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([...this.restarted.values()].map((a) => a.close()));
    this.restarted.clear();
    const estate = this.estate;
    this.estate = undefined;
    await estate?.stop();
  }
}
