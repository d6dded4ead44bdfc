import { freeUdpPort } from '../../collectors/index.ts';
import { readSnmprec, RecordStore, startAgent, type SimulatedAgent } from '../../simulators/snmp/index.ts';

/** A recorded device (a `.snmprec` under `dir`) answering on one loopback address. */
export interface RecordedAgent {
  address: string;
  file: string;
  community: string;
  v3?: NonNullable<Parameters<typeof startAgent>[1]>['v3'];
}

/**
 * The product's simulated agents, one per recording, all on the same UDP port (a sweep asks one port);
 * another port is tried if one address has it taken.
 */
export async function startRecordedAgents(dir: string, list: readonly RecordedAgent[]): Promise<{ port: number; agents: SimulatedAgent[] }> {
  const stores = list.map((a) => new RecordStore(readSnmprec(`${dir}/${a.file}`).records));
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort(list[0]?.address ?? '127.0.0.1');
    const agents: SimulatedAgent[] = [];
    try {
      for (const [i, a] of list.entries()) agents.push(await startAgent(stores[i] as RecordStore, { address: a.address, port, community: a.community, v3: a.v3 }));
      return { port, agents };
    } catch (err) {
      await Promise.all(agents.map((x) => x.close()));
      if (attempt >= 4) throw err;
    }
  }
}
