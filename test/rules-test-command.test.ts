import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './support/net.ts';

const rules = `rules:
  - id: warm
    type: threshold
    name: Warm
    kind: environment
    severity: warning
    match: { metric: temperature, tags: { aisle: cold } }
    when: { above: 27 }
    for: 30s
`;
const tests = (expectAt: string) => `rule_files: [rules.yaml]
tests:
  - name: warm inlet fires after 30s
    input:
      - { at: 0s, device: s1, metric: temperature, value: 28, tags: { aisle: cold } }
      - { at: 20s, device: s1, metric: temperature, value: 28.5, tags: { aisle: cold } }
    expect:
      - { at: 10s, alerts: [] }
      - { at: ${expectAt}, alerts: [{ rule: warm, labels: { device: s1 } }] }
`;

describe('watchfloor rules test FILE', () => {
  it('passes a correct expectation and fails a wrong one with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-ruletest-'));
    writeFileSync(join(dir, 'rules.yaml'), rules);
    writeFileSync(join(dir, 'good.yaml'), tests('30s'));
    writeFileSync(join(dir, 'bad.yaml'), tests('25s'));
    const good = await run('node', ['bin/watchfloor.js', 'rules', 'test', join(dir, 'good.yaml')], 30_000);
    expect(good.stdout).toContain('PASS warm inlet fires after 30s');
    expect(good.code).toBe(0);
    const bad = await run('node', ['bin/watchfloor.js', 'rules', 'test', join(dir, 'bad.yaml')], 30_000);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('at 25s: expected warm {"device":"s1"} firing, it is not');
  });
});
