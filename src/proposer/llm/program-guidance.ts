/**
 * program.md as research guidance. The original autoresearch's program.md is written for an
 * agent that IS the loop: it tells it to create the branch, commit, run `uv run train.py`, grep
 * the log, write results.tsv, `git reset`, and "LOOP FOREVER / NEVER STOP". Here the harness
 * does all of that, and an agent that follows those lines fights the harness (runs git in the
 * worktree, trains for minutes inside its own turn, edits results.tsv, never finishes).
 *
 * So a program that describes loop mechanics is handed over as guidance only: a preface says
 * plainly what the harness does and that such instructions are to be ignored; the sections that
 * are only mechanics (setup, output format, logging results, the experiment loop) are left out
 * by name; in what remains, sentences that instruct mechanics (git commands, running the
 * training, results.tsv, run.log, looping forever) are dropped. The goal, what may and may not
 * change, and the simplicity criterion stay word for word. A program without such instructions
 * (the templates' program.md) is returned unchanged.
 *
 * Contract: pure, deterministic; never throws.
 */

/** Section headings whose whole section is loop mechanics the harness performs. */
const MECHANICS_HEADING = /^(set ?up|output format|logging results|(the )?experiment loop|(the )?loop)$/i;

/**
 * A sentence that tells the agent to do the harness's job (narrow on purpose: a program that
 * only mentions results.tsv or says "never stop to ask" is left as written).
 */
const MECHANICS_SENTENCE = [
  /\bLOOP FOREVER\b|\bNEVER STOP\b/, // the original's capitals only
  /\bgit (commit|reset|checkout|branch|switch|stash|add)\b/i,
  /\buv run\b|\byou launch it\b|\bfirst run should\b|\bkill it\b/i,
  /\b(log|record|write) (it|them|the results?) (to|in) (`?results\.tsv`?|the tsv)|\b(create|initiali[sz]e) `?results\.tsv/i,
  />>? ?run\.log\b|\bgrep\b[^.]*\brun\.log\b/i,
];
const isMechanics = (s: string) => MECHANICS_SENTENCE.some((re) => re.test(s));

export const HARNESS_PREFACE = [
  'The harness runs the experiment loop, not you. It creates the study branch, commits each change, runs the training (and the protected evaluation) under the fixed budget, reads the metric, writes results.tsv, keeps the change or resets it, kills runs that time out, and goes on until it is stopped.',
  "Where the program below tells you to create branches, commit, reset, run the training, read logs, write results.tsv or loop, ignore it: those steps are the harness's. Your job in this turn is ONE change to the editable file(s), then finish.",
  'Take from it the research guidance: the goal, what may and may not change, and the simplicity criterion.',
].join('\n');

export interface Guidance {
  /** The text to give the agent. */
  text: string;
  /** True when loop mechanics were found (and the preface applies). */
  mechanics: boolean;
  /** Headings of the sections left out. */
  removedSections: string[];
}

interface Section {
  heading: string | null;
  level: number;
  lines: string[];
}

export function researchGuidance(program: string): Guidance {
  const sections = splitSections(program.replace(/\r\n/g, '\n'));
  const removedSections: string[] = [];
  let droppedSentences = 0;
  const kept: string[] = [];
  for (const s of sections) {
    if (s.heading !== null && s.level > 1 && MECHANICS_HEADING.test(s.heading.trim())) {
      removedSections.push(s.heading.trim());
      continue;
    }
    const body = filterBody(s.lines, () => droppedSentences++);
    if (s.heading !== null) kept.push(`${'#'.repeat(s.level)} ${s.heading}`);
    kept.push(...body);
  }
  const mechanics = removedSections.length > 0 || droppedSentences > 0;
  if (!mechanics) return { text: program.trim(), mechanics, removedSections };
  const text = kept
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  const note = removedSections.length
    ? `\n\n(Left out, the harness does them: ${removedSections.map((h) => `"${h}"`).join(', ')}.)`
    : '';
  return { text: text + note, mechanics, removedSections };
}

function splitSections(text: string): Section[] {
  const out: Section[] = [{ heading: null, level: 0, lines: [] }];
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    const h = fence ? null : /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) out.push({ heading: h[2]!.trim(), level: h[1]!.length, lines: [] });
    else out.at(-1)!.lines.push(line);
  }
  return out;
}

/**
 * Drops fenced blocks and sentences that instruct mechanics; an item (a paragraph or a list item
 * with its continuation lines) with nothing dropped stays exactly as written.
 */
function filterBody(lines: string[], onDrop: () => void): string[] {
  const items: string[][] = [];
  let fence: string[] | null = null;
  for (const line of lines) {
    if (fence !== null) {
      fence.push(line);
      if (/^\s*(```|~~~)/.test(line)) fence = null;
      continue;
    }
    if (/^\s*(```|~~~)/.test(line)) {
      fence = [line];
      items.push(fence);
    } else if (
      line.trim() === '' ||
      /^\s*([-*+]|\d+\.)\s+/.test(line) ||
      items.length === 0 ||
      items.at(-1)!.at(-1)!.trim() === '' ||
      /^\s*(```|~~~)/.test(items.at(-1)![0]!)
    ) {
      items.push([line]);
    } else {
      items.at(-1)!.push(line);
    }
  }
  const out: string[] = [];
  for (const item of items) {
    const text = item.join('\n');
    if (!isMechanics(text)) {
      out.push(text);
      continue;
    }
    if (/^\s*(```|~~~)/.test(item[0]!)) {
      onDrop();
      continue;
    }
    const lead = /^(\s*(?:[-*+]|\d+\.)\s+)?/.exec(text)![0];
    const sentences = text.slice(lead.length).split(/(?<=[.!?:])\s+(?=[A-Z*`(])/);
    const keep: string[] = [];
    for (const x of sentences) {
      if (!isMechanics(x)) keep.push(x);
      else {
        onDrop();
        if (/:$/.test(keep.at(-1)?.trim() ?? '')) keep.pop(); // its label ("By hand:") goes with it
      }
    }
    if (keep.length && !keep.every((x) => /^\*\*[^*]+\*\*:?$/.test(x.trim())))
      out.push(lead + keep.join(' ').replace(/\s*\n\s*/g, ' '));
  }
  // blank lines left doubled by a dropped item collapse later
  return out;
}
