// Services (issue 16): services as inventory, their state from the checks, availability from the
// stored check results, error-budget burn alerts and the monthly report. The checks themselves
// run in collectors/checks; the composition root wires the two together.
export { parseService, redactService, serviceDocument, type DependencyIds, type Service, type ServiceCheck } from './schema.ts';
export { CHECK_METRICS, CheckReport, checkPoints, serviceCheckDevice, serviceCheckTopic } from './stored.ts';
export { serviceStatus, activeWindow, type CheckStatus, type DependencyStatus, type ServiceState, type ServiceStatus } from './state.ts';
export { bucketAvailability, samplesFromStore, serviceTimeline, staleAfterMs, summarize, type Availability, type Incident, type ReadSamples, type SampleColumns, type Segment, type SegmentState } from './availability.ts';
export { BURN_POLICY, BURN_WINDOWS_MS, burnRateAlerts, burnThreshold, type BurnAlert, type BurnWindow } from './burn-rate.ts';
export { errorRatio, ServiceBook, SERVICES_FILE, type ServiceBookOptions, type ServiceChange } from './book.ts';
export { lastDays, localDate, monthBounds, validTimeZone, zonedMidnight } from './calendar.ts';
export { monthlyReport, reportCsv, type MonthlyReport, type ServiceReportRow } from './report.ts';
export { serviceAlertOpenings, SERVICE_RULE_PREFIX } from './alerts.ts';
