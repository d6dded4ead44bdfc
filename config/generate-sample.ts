/**
 * Writes config/sample-datacenter.yaml from the sample estate defined in simulators/, after
 * checking it against the inventory schema, so the checked-in file is always one that loads.
 * Run: node bin/run-ts.js config/generate-sample.ts
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { Inventory, bundledConfigDir, issueLines } from '../core/index.ts';
import { sampleInventoryYaml } from '../simulators/index.ts';

const file = resolve(bundledConfigDir, 'sample-datacenter.yaml');
const text = sampleInventoryYaml();
const checked = Inventory.safeParse(parse(text));
if (!checked.success) {
  console.error(`the generated sample does not validate:\n  ${issueLines(checked.error).join('\n  ')}`);
  process.exit(1);
}
writeFileSync(file, text);
const inv = checked.data;
console.log(`wrote ${file}: ${inv.rooms.length} rooms, ${inv.racks.length} racks, ${inv.devices.length} devices, ${inv.links.length} links`);
