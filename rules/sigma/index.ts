export { compileSigma, parseTimespan, SIGMA_LEVELS, type SigmaLevel, type SigmaRule, type SigmaDetectionRule, type SigmaCorrelationRule, type SigmaSource, type SigmaLoadError } from './compile.ts';
export { SigmaEngine, type Detection, type SigmaEngineOptions } from './engine.ts';
export { loadMapping, compileMapping, defaultMappingPath, MappingFile, type SigmaMapping, type Entities, type Logsource } from './mapping.ts';
export { readSigmaSources, builtinSigmaPath } from './load.ts';
export { parseCondition, type Condition } from './condition.ts';
export { SUPPORTED_MODIFIERS, SigmaRuleError } from './values.ts';
