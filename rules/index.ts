export {
  KINDS,
  RuleDef,
  ThresholdRule,
  NodataRule,
  RateRule,
  StateRule,
  EventRule,
  AggregateRule,
  CorrelationRule,
  SigmaAlertRule,
  SEVERITY_OF_LEVEL,
  Schedule,
  FieldCondition,
  parseDuration,
  formatDuration,
  evaluateThreshold,
  elapseThreshold,
  breaches,
  clears,
  evaluateNodata,
  elapseNodata,
  silenceAllowed,
  inSchedule,
  RateWindow,
  type RuleInput,
  type RuleType,
  type RuleKind,
  type TagMatch,
  type ThresholdState,
  type NodataState,
  type Presence,
  type Step,
  type Transition,
} from './kinds/index.ts';
export { RuleFile, loadRules, loadRulesFile, builtinRulesPath } from './rule-file.ts';
export { ORPHAN_GRACE_MS, RuleEngine, type RuleEngineOptions, type RuleStatus } from './engine.ts';
export { fingerprintOf, renderSummary, AlertBook, type AlertChange, type AlertFilter } from './alert-book.ts';
export { applyAction, type AlertAction, type HistoryEntry } from './lifecycle.ts';
export { SilenceBook, SilenceInput, matchesAll, type Silence, type Matcher } from './silences.ts';
export { dependencyTree } from './dependencies.ts';
export { changeShare, isFlapping, recordBit, DEFAULT_FLAP, type FlapPolicy } from './flapping.ts';
export { AlertJournal } from './journal.ts';
export { openRules, mayActOn, type AlertDesk, type Actor, type RulesOptions } from './triage-desk.ts';
export { NotifyConfig, parseNotifyConfig, startNotifier, withSiteDefaults, actingUserFor, Grouper, signature, webhookBody, telegramMethodUrl, checkTelegramAnswer, postJson, wordsOf, formatTime, SLACK_ACTION_IDS, type Notification, type Notifier, type NotifyDoor, type Receiver as NotifyReceiver, type ButtonAction, type Refusal } from './notify/index.ts';
export { OnCallRoster, onCallAt, nextHandover, isHoliday, holidayOn, escalationStep, type OnCallStatus } from './notify/index.ts';
export { runRuleTests, runRulesCommand, RuleTestFile } from './rule-test.ts';
export { registerRuleMetrics } from './metrics.ts';
export { compileSigma, SigmaEngine, loadMapping, readSigmaSources, builtinSigmaPath, SIGMA_LEVELS, type Detection, type SigmaRule, type SigmaLevel } from './sigma/index.ts';
export * from './services/index.ts';
