export {
  RuleDef,
  RuleFile,
  ThresholdRule,
  NodataRule,
  RateRule,
  StateRule,
  EventRule,
  AggregateRule,
  CorrelationRule,
  Schedule,
  loadRules,
  loadRulesFile,
  builtinRulesPath,
  parseDuration,
  formatDuration,
  type RuleInput,
  type TagMatch,
} from './schema.ts';
export { ORPHAN_GRACE_MS, RuleEngine, type RuleEngineOptions, type RuleStatus } from './engine.ts';
export { fingerprintOf, renderSummary, AlertBook, type AlertChange, type AlertFilter } from './alert-book.ts';
export { evaluateThreshold, elapseThreshold, breaches, clears, type ThresholdState, type Step, type Transition } from './threshold.ts';
export { evaluateNodata, elapseNodata, type NodataState, type Presence } from './nodata.ts';
export { applyAction, type AlertAction, type HistoryEntry } from './lifecycle.ts';
export { SilenceBook, SilenceInput, matchesAll, type Silence, type Matcher } from './silences.ts';
export { inSchedule } from './schedule.ts';
export { dependencyTree } from './dependencies.ts';
export { changeShare, isFlapping, recordBit, DEFAULT_FLAP, type FlapPolicy } from './flapping.ts';
export { AlertJournal } from './journal.ts';
export { openRules, mayActOn, type AlertDesk, type Actor, type RulesOptions } from './desk.ts';
export { RateWindow } from './rate.ts';
export { NotifyConfig, parseNotifyConfig, startNotifier, Grouper, signature, webhookBody, type Notification, type Notifier } from './notify/index.ts';
export { runRuleTests, runRulesCommand, RuleTestFile } from './rule-test.ts';
export { compileSigma, SigmaEngine, loadMapping, readSigmaSources, builtinSigmaPath, type Detection, type SigmaRule } from './sigma/index.ts';
