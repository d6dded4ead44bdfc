/** InfluxDB beside the embedded store (`store: influxdb`): the buffered line-protocol writer and the InfluxQL reader. */
export { startInfluxWriter, BATCH_LINES, type InfluxWriter, type InfluxWriterOptions, type InfluxWriterStats } from './writer.ts';
export { toLine } from './line.ts';
export { InfluxReader, notReadOnly, type InfluxReaderOptions, type InfluxQueryReply } from './reader.ts';
export { deleteDeviceFromInflux, type InfluxDeleteTarget } from './delete.ts';
