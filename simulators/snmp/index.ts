/** Simulated SNMP agents: recordings (`.snmprec`) and synthetic switches, UPSes, PDUs, CRACs, environment monitors and Linux hosts. */
export { parseSnmprec, readSnmprec, type ParsedRecording, type SnmpRecord } from './snmprec.ts';
export { RecordStore } from './record-store.ts';
export { startAgent, type AgentOptions, type SimulatedAgent } from './agent.ts';
export { syntheticSwitch, syntheticUps, syntheticPdu, syntheticSensors, syntheticHost, type SyntheticPdu, type SyntheticSwitch, type SyntheticUps } from './synthetic.ts';
export { sendTrap, type TrapTarget } from './traps.ts';
export { startSnmpEstate, interfacesOf, type SnmpEstate, type SnmpEstateOptions, type SimulatedSnmpDevice } from './estate.ts';
