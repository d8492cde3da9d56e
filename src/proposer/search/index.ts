/** The offline `search` proposer: constants of the editable files, principled moves, no LLM. */
export { findConstants, langOf, parseLiteral } from './constants.js';
export type { Constant, ConstantKind, ConstantValue, Lang, LiteralStyle, ParsedLiteral } from './constants.js';
export { formatValue, rewriteConstant, roundSig, FLOAT_DIGITS } from './rewrite.js';
export { candidateMoves, isExcluded, isFractionLike, stringAlternatives, PROTECTED_NAME_PARTS } from './moves.js';
export type { Move, MoveDirection, MoveOptions, MoveStep } from './moves.js';
export { parseChange } from './history.js';
export type { SearchChange } from './history.js';
export { SearchProposer, hash01 } from './search-proposer.js';
export type { SearchProposerOptions } from './search-proposer.js';
