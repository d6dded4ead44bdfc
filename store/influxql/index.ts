/** InfluxQL over the store: the subset Grafana's InfluxDB data source sends, answered in InfluxDB 1.x's JSON shape. */
export { parseInfluxQL, InfluxQLSyntaxError, type Statement } from './parse.ts';
export { executeInfluxQL, measurementOf, DATABASE, type StatementResult, type InfluxSeries } from './execute.ts';
export { DEFAULT_QUERY_LIMITS, QueryBudget, QueryLimitError, statementCapError, treeDepthError, type QueryLimits } from './limits.ts';
export { stringifyResults } from './json.ts';
export { chunkResults } from './chunks.ts';
