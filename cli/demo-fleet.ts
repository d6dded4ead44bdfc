import type { ClientEvent } from '../broker/index.ts';
import type { Logger } from '../core/index.ts';
import type { Fleet } from '../simulators/index.ts';

/**
 * The sample fleet that `watchfloor start --simulate` runs, which stands down while another
 * simulator logs in as the same collector account (`watchfloor simulate crac-failure` run by hand):
 * two fleets writing different values for the same sensors would make every reading flap. It comes
 * back when the other one leaves.
 */
export class DemoFleet {
  private fleet: Fleet | undefined;
  private readonly others = new Set<string>();
  private enabled = false;
  /** Known before the fleet connects, so its own CONNECT is not taken for another simulator's. */
  private readonly clientId = `watchfloor-demo-${Math.random().toString(16).slice(2, 10)}`;
  /** Start and stop run one at a time, in the order the events came. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly username: string,
    private readonly launch: (clientId: string) => Promise<Fleet>,
    private readonly logger: Logger,
  ) {}

  /** The devices the demo fleet plays, known from its first start. */
  private played = new Set<string>();

  get current(): Fleet | undefined {
    return this.fleet;
  }

  /** Starts the fleet; resolves once it publishes (or rejects when it cannot connect). */
  start(): Promise<void> {
    this.enabled = true;
    return this.reconcile();
  }

  stop(): Promise<void> {
    this.enabled = false;
    return this.reconcile();
  }

  /** Feed of the broker's client events: another client of the simulator account takes over. */
  onClient(event: ClientEvent): void {
    if (event.username !== this.username || event.clientId === this.clientId) return;
    if (event.status === 'online') this.others.add(event.clientId);
    else this.others.delete(event.clientId);
    this.reconcile().catch((err: Error) => this.logger.warn({ err: err.message }, 'demo fleet: could not resume'));
  }

  /**
   * True for an `offline` status that the other simulator says for a device as it leaves: the demo
   * fleet takes the device back at once, so the goodbye would only raise and clear an alert.
   */
  takesBack(deviceId: string): boolean {
    return this.enabled && this.others.size > 0 && this.played.has(deviceId);
  }

  private reconcile(): Promise<void> {
    const step = async (): Promise<void> => {
      const wanted = this.enabled && this.others.size === 0;
      if (wanted && !this.fleet) {
        this.fleet = await this.launch(this.clientId);
        this.played = new Set(this.fleet.deviceIds);
      } else if (!wanted && this.fleet) {
        const fleet = this.fleet;
        this.fleet = undefined;
        if (this.enabled) this.logger.info({ others: [...this.others] }, 'demo fleet: another simulator took over; standing down');
        await fleet.stop();
      }
    };
    this.queue = this.queue.then(step, step);
    return this.queue;
  }
}
