/** Device simulators and scripted scenarios: the sample data center, its model and the MQTT sensor fleet. */
export { buildSampleInventory, sampleInventoryYaml, SAMPLE_SNMP_PORTS } from './sample-estate.ts';
export { startAgent, startSnmpEstate, type SimulatedAgent, type SnmpEstate, type SnmpEstateOptions, type SimulatedSnmpDevice } from './snmp/index.ts';
export { DataCenterModel, type Metrics, type Reading } from './model.ts';
export type { HostResources, Workload } from './cloud.ts';
export { scenarios, isScenarioName, resolveScenario, type ScenarioName, type ScenarioState } from './scenarios.ts';
export { startFleet, type Fleet, type FleetOptions } from './fleet.ts';
export { startAttacker, attackLines, backgroundLines, ATTACKS, seededRandom, type Attacker, type AttackerOptions, type AttackName, type AttackLine } from './attacker/index.ts';
export { runSimulateCommand, type SimulateIo } from './cli.ts';
export { startServiceEstate, SERVICE_ESTATE_DEFAULTS, type ServiceEstate, type ServiceEstateOptions, type ServiceFault, type SimulatedService } from './services/index.ts';
