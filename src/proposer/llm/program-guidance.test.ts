import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeProposalDir, proposalContext } from '../../test-support/proposal-fixtures.js';
import { HARNESS_PREFACE, researchGuidance } from './program-guidance.js';
import { cliPrompt, systemPrompt } from './prompt.js';

const fixture = (p: string) => readFileSync(fileURLToPath(new URL(`../../../${p}`, import.meta.url)), 'utf8');
/** The original autoresearch's program.md (MIT; see test/fixtures/karpathy-autoresearch/NOTICE.md). */
const ORIGINAL = fixture('test/fixtures/karpathy-autoresearch/program.md');

/** Instructions of the original that make the agent run the loop itself. */
const MECHANICS = [
  /LOOP FOREVER/,
  /NEVER STOP/,
  /git checkout -b/,
  /git commit/,
  /git reset/,
  /uv run train\.py/,
  /run\.log/,
  /Initialize results\.tsv/,
  /log it to `results\.tsv`/,
  /Record the results in the tsv/,
  /kill it/,
  /establish the baseline/,
];

describe("program.md: research guidance for the agent, the loop mechanics are the harness's", () => {
  it("the original's program.md: goal, what may and may not change and the simplicity criterion stay; loop mechanics go, under a plain preface", () => {
    assert.ok(
      MECHANICS.every((re) => re.test(ORIGINAL)),
      'the fixture holds every mechanic',
    );
    const dir = makeProposalDir();
    const ctx = proposalContext(dir, { program: ORIGINAL, editable: ['train.py'], protected: ['prepare.py'] });
    for (const [name, prompt] of [
      ['LLM agent system prompt', systemPrompt(ctx)],
      ['coding-agent CLI prompt', cliPrompt(ctx)],
    ] as const) {
      const program = prompt.slice(prompt.indexOf('# Research program (program.md)'));
      assert.ok(program.startsWith(`# Research program (program.md)\n\n${HARNESS_PREFACE}\n`), name);
      assert.match(
        program,
        /The harness runs the experiment loop, not you\. It creates the study branch, commits each change, runs the training/,
      );
      assert.match(
        program,
        /ignore it: those steps are the harness's\. Your job in this turn is ONE change to the editable file\(s\), then finish\./,
      );
      // the research guidance, word for word
      assert.match(program, /\*\*The goal is simple: get the lowest val_bpb\.\*\*/, name);
      assert.match(program, /\*\*What you CAN do:\*\*\n- Modify `train\.py` — this is the only file you edit\./);
      assert.match(program, /\*\*What you CANNOT do:\*\*\n- Modify `prepare\.py`\. It is read-only\./);
      assert.match(program, /- Install new packages or add dependencies\./);
      assert.match(
        program,
        /\*\*Simplicity criterion\*\*: All else being equal, simpler is better\.[^\n]*An improvement of ~0 but much simpler code\? Keep\./,
      );
      assert.match(program, /\*\*VRAM\*\* is a soft constraint\./);
      assert.match(
        program,
        /fixed time budget of 5 minutes\*\* \(wall clock training time, excluding startup\/compilation\)\./,
      );
      // no mechanics left after the preface (which names them only to hand them to the harness)
      const body = program.slice(program.indexOf('\n---\n'));
      for (const re of MECHANICS) assert.doesNotMatch(body, re, `${name}: ${re}`);
      assert.doesNotMatch(body, /results\.tsv/);
      assert.match(
        body,
        /\(Left out, the harness does them: "Setup", "Output format", "Logging results", "The experiment loop"\.\)/,
      );
    }
  });

  it('a program without loop mechanics comes as written, with no preface (the landscape and custom templates, a short note)', () => {
    for (const program of [
      fixture('templates/landscape/program.md'),
      fixture('templates/custom/program.md'),
      'Improve val_bpb. Never stop to ask; try the learning rate first.',
    ]) {
      const g = researchGuidance(program);
      assert.equal(g.mechanics, false);
      assert.equal(g.text, program.trim());
      const prompt = systemPrompt(proposalContext(makeProposalDir(), { program }));
      assert.ok(prompt.endsWith(`# Research program (program.md)\n\n${program.trim()}`));
      assert.doesNotMatch(prompt, /The harness runs the experiment loop, not you/);
    }
  });

  it('a mechanic inside a kept paragraph goes alone (with its label); the rest of the paragraph stays', () => {
    const g = researchGuidance(
      '## Notes\n\nUse small steps. By hand: `python train.py > run.log` then read it.\nPrefer fewer parameters.\n\n- git commit after each change\n- keep the budget logic\n',
    );
    assert.equal(g.mechanics, true);
    assert.equal(g.text, '## Notes\n\nUse small steps. Prefer fewer parameters.\n\n- keep the budget logic');
  });
});
