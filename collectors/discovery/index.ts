/** Network discovery: SNMP sweeps of the ranges an admin gives, LLDP/CDP neighbours, links and devices proposed, never applied. */
export { NetworkDiscovery, type DiscoveredCandidate, type FoundView, type NeighboursRequest, type NetworkDiscoveryOptions, type SweepProgress, type SweepRequest, type SweepSource, type SweepState, type SweepView } from './sweep.ts';
export { DiscoveryConfig, parseDiscoveryConfig, type DiscoveryConfigInput } from './config.ts';
export { DEFAULT_ALLOWED_CIDRS, hostCount, hostsOf, parseCidr, refusal, type Cidr } from './cidr.ts';
export { cdpNeighbours, lldpNeighbours, textOf, type Neighbour } from './neighbours.ts';
export { kindOf, probeAddress, type Attempt, type FoundDevice } from './probe.ts';
export { inventoryHasLink, nameKey, propose, suggestId, type ProposedDevice, type ProposedLink, type Proposals } from './proposals.ts';
