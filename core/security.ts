/**
 * Something a SOC should see: a refused login, a denied publish, a probe with a wrong SNMP community.
 * Every source (broker, trap receiver, ops server) reports in this one shape.
 */
export interface SecurityEvent {
  ts: number;
  /** What happened, e.g. bad_credentials, topic_denied, snmp_bad_community, login_failed. */
  type: string;
  /** Where it came from: the component that saw it (mqtt, snmp, http). */
  origin: 'mqtt' | 'snmp' | 'http';
  /** The remote address, when there is one. */
  source?: string;
  username?: string;
  clientId?: string;
  device?: string;
  topic?: string;
  detail?: string;
}
