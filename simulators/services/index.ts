/** The province's e-government services served for real on loopback, with faults to switch (issue 16). */
export { startServiceEstate, SERVICE_ESTATE_DEFAULTS, type FaultInfo, type ServiceEndpointInfo, type ServiceEstate, type ServiceEstateOptions, type ServiceFault, type SimulatedService } from './estate.ts';
export { SERVICE_CATALOGUE, type EndpointId, type ServiceEntry } from './catalogue.ts';
export { makeEstateCertificates, type EstateCertificates, type KeyPair } from './certs.ts';
export { answerQuery, startDnsResponder, type DnsResponder } from './dns-responder.ts';
