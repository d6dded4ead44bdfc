export {
  RuleDef,
  RuleFile,
  ThresholdRule,
  NodataRule,
  loadRules,
  loadRulesFile,
  builtinRulesPath,
  parseDuration,
  formatDuration,
  type RuleInput,
  type TagMatch,
} from './schema.ts';
export { RuleEngine, type RuleEngineOptions } from './engine.ts';
export { fingerprintOf, renderSummary, type AlertChange, type AlertFilter } from './alert-book.ts';
export { evaluateThreshold, elapseThreshold, breaches, clears, type ThresholdState, type Step, type Transition } from './threshold.ts';
export { evaluateNodata, elapseNodata, type NodataState, type Presence } from './nodata.ts';
