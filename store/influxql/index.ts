/** InfluxQL over the store: the subset Grafana's InfluxDB data source sends, answered in InfluxDB 1.x's JSON shape. */
export { parseInfluxQL, InfluxQLSyntaxError, type Statement } from './parse.ts';
export { executeInfluxQL, type StatementResult } from './execute.ts';
export { measurementOf, DATABASE, type InfluxSeries } from './mapping.ts';
export { DEFAULT_QUERY_LIMITS, QueryBudget, QueryLimitError, statementCapError, treeDepthError, type QueryLimits } from './limits.ts';
export { stringifyResults } from './json.ts';
export { chunkResults } from './chunks.ts';
