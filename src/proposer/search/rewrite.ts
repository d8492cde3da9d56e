/**
 * Writes a new value into a constant's literal, keeping every other byte of the source and the
 * literal's style: `2**N` stays a power form when it can, scientific stays scientific, digit
 * grouping with `_` is kept, floats stay float literals (`1.0`, never `1`) printed short (at
 * most 4 significant digits, no trailing zeros: 0.04 * 1.25 -> `0.05`), ints stay ints, bools
 * use the language's spelling, strings keep their quote character.
 *
 * Contract: pure functions. They throw (a bug in the caller) when the value does not fit the
 * constant's kind or when the source no longer holds the literal at the constant's offsets.
 */
import type { Constant, ConstantValue } from './constants.js';

/** Significant digits kept when a float is written. */
export const FLOAT_DIGITS = 4;

/** `v` rounded to `digits` significant digits (0 stays 0). */
export function roundSig(v: number, digits: number = FLOAT_DIGITS): number {
  if (v === 0 || !Number.isFinite(v)) return v === 0 ? 0 : v;
  return Number(v.toPrecision(digits));
}

/** The literal text for `value`, written in the constant's language and style. */
export function formatValue(c: Constant, value: ConstantValue): string {
  switch (c.kind) {
    case 'bool':
      if (typeof value !== 'boolean') throw new TypeError(`${c.name}: expected a boolean`);
      return c.lang === 'python' ? (value ? 'True' : 'False') : value ? 'true' : 'false';
    case 'string':
      if (typeof value !== 'string') throw new TypeError(`${c.name}: expected a string`);
      return quoteString(value, c.style.quote ?? '"');
    case 'int':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw new TypeError(`${c.name}: expected an integer, got ${String(value)}`);
      }
      return formatInt(c, value);
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new TypeError(`${c.name}: expected a finite number, got ${String(value)}`);
      }
      return formatFloat(c, value);
  }
}

/** `source` with the constant's literal replaced by `value`; every other byte is unchanged. */
export function rewriteConstant(source: string, c: Constant, value: ConstantValue): string {
  if (source.slice(c.start, c.end) !== c.raw) {
    throw new Error(`${c.name}: the source no longer holds ${c.raw} at offset ${c.start}`);
  }
  return source.slice(0, c.start) + formatValue(c, value) + source.slice(c.end);
}

function formatInt(c: Constant, v: number): string {
  const power = c.style.power;
  if (power && v >= 1) {
    const k = exactLog(v, power.base);
    if (k !== null) return `${power.base}${power.before}**${power.after}${k}`;
  }
  const digits = String(Math.abs(v));
  const grouped = c.style.underscores ? digits.replace(/\B(?=(\d{3})+(?!\d))/g, '_') : digits;
  return (v < 0 ? '-' : '') + grouped;
}

/** k such that base**k === v, or null. */
function exactLog(v: number, base: number): number | null {
  if (base < 2) return null;
  let k = 0;
  let x = 1;
  while (x < v) {
    x *= base;
    k++;
  }
  return x === v ? k : null;
}

function formatFloat(c: Constant, value: number): string {
  const v = roundSig(value);
  const sci = c.style.scientific;
  if (sci) return formatScientific(v, sci.expChar, sci.mantissaDot, sci.plusSign);
  let s = String(v);
  if (/e/i.test(s)) return formatScientific(v, 'e', false, false);
  if (!s.includes('.')) s += '.0';
  if (c.style.leadingDot) s = s.replace(/^(-?)0\./, '$1.');
  return s;
}

function formatScientific(v: number, expChar: string, mantissaDot: boolean, plus: boolean): string {
  if (v === 0) return mantissaDot ? `0.0${expChar}0` : `0${expChar}0`;
  let exp = Math.floor(Math.log10(Math.abs(v)));
  let mantissa = roundSig(v / 10 ** exp);
  if (Math.abs(mantissa) >= 10) {
    mantissa = roundSig(mantissa / 10);
    exp++;
  }
  if (Math.abs(mantissa) < 1) {
    mantissa = roundSig(mantissa * 10);
    exp--;
  }
  let m = String(mantissa);
  if (mantissaDot && !m.includes('.')) m += '.0';
  return `${m}${expChar}${exp >= 0 && plus ? '+' : ''}${exp}`;
}

function quoteString(value: string, quote: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .split(quote)
    .join(`\\${quote}`);
  return quote + (quote === '`' ? escaped.replace(/\$/g, '\\$') : escaped) + quote;
}
