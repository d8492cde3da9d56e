// One experiment's page: decision, evidence, proposer, diff, log.
// Everything from the ledger (descriptions, reasons, diffs, logs) is written by an adversarial
// proposer: it goes into the DOM only as text (textContent / text nodes), never as HTML.
import { fmtDur, fmtV, h, usd } from './dom.js';
import { main, S } from './state.js';

// ---- one experiment --------------------------------------------------------------------------
export async function renderDetail(n) {
  const row = S.snap.experiments.find((e) => e.number === n);
  const stale = !S.detail || S.detail.number !== n || (row && row.status !== S.detail.status);
  if (stale) {
    const res = await fetch(`/api/experiments/${n}`);
    S.detail = res.ok ? await res.json() : { number: n, error: (await res.json()).error };
  }
  const d = S.detail;
  if (d.error) {
    main.replaceChildren(h('p', {}, d.error));
    return;
  }
  const ev = d.evidence;
  const u = d.usage || {};
  const kv = (pairs) =>
    h(
      'dl',
      { class: 'kv' },
      pairs
        .filter((p) => p[1] !== null && p[1] !== undefined && p[1] !== '')
        .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    );
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/' }, '← all experiments')),
    h(
      'section',
      {},
      h(
        'h2',
        { id: 'exp-title' },
        `#${d.number} `,
        h('span', { class: `st-${d.status}` }, d.status),
        ' — ',
        d.description,
      ),
    ),
    h(
      'section',
      { id: 'decision' },
      h('h2', {}, 'Decision'),
      kv([
        ['status', d.status],
        [S.snap.metric, fmtV(d.value)],
        ['reason', d.reason],
        ['commit', d.commit],
        ['parent', d.parentCommit],
        ['slot', d.slot],
        ['run time', d.runMs === null ? null : fmtDur(d.runMs)],
        ['attempts', d.attempts],
      ]),
      ev
        ? h(
            'div',
            { id: 'evidence' },
            h('h2', {}, 'Evidence'),
            kv([
              ['runs', ev.runs.map(fmtV).join(', ')],
              ['mean', fmtV(ev.mean)],
              ['spread (σ)', fmtV(ev.spread)],
              [
                'best it was compared with',
                ev.bestMean === undefined ? null : `${fmtV(ev.bestMean)} over ${ev.bestRuns} run(s)`,
              ],
              ['threshold (gain to clear)', ev.threshold === undefined ? null : fmtV(ev.threshold)],
              [
                'rebased from',
                ev.rebased
                  ? `${ev.rebased.fromParent.slice(0, 7)} (runs ${ev.rebased.runs.map(fmtV).join(', ')})`
                  : null,
              ],
            ]),
          )
        : null,
    ),
    h(
      'section',
      { id: 'proposer' },
      h('h2', {}, 'Proposer'),
      kv([
        ['proposer', d.proposer],
        ['time to propose', d.proposeMs === null ? null : fmtDur(d.proposeMs)],
        ['input tokens', u.inputTokens],
        ['output tokens', u.outputTokens],
        ['cost', u.costUsd === undefined ? null : usd(u.costUsd)],
        ['change', changeText(d.change)],
        [
          'repairs',
          d.repairs.length
            ? d.repairs.map((r) => `${r.attempt}: ${r.description} (${r.crashReason})`).join('; ')
            : null,
        ],
      ]),
    ),
    transcriptView(d.change?.transcript),
    h('section', {}, h('h2', {}, 'Diff'), diffView(d.diff)),
    h('section', {}, h('h2', {}, 'Log head'), h('pre', { id: 'log-head' }, d.logHead || '(no log file)')),
    h('section', {}, h('h2', {}, 'Log tail'), h('pre', { id: 'log-tail' }, d.logTail || '(empty)')),
  );
}
// The change record without the session summary (shown apart, below).
function changeText(change) {
  if (change === null || change === undefined) return null;
  if (typeof change !== 'object' || !('transcript' in change)) return JSON.stringify(change);
  const { transcript: _t, ...rest } = change;
  return JSON.stringify(rest);
}

// An LLM agent's session, summarised by the proposer (src/proposer/llm/transcript.ts): per turn,
// what it started to say and the tools it called. Model-written: text only.
function transcriptView(t) {
  if (!t || !Array.isArray(t.steps) || t.steps.length === 0) return null;
  const tool = (x) =>
    h(
      'code',
      { class: x.refused ? 'refused' : null },
      `${x.name}${x.target ? ` ${x.target}` : ''}${x.refused ? ' (refused)' : ''}`,
    );
  return h(
    'section',
    { id: 'transcript' },
    h('h2', {}, 'Proposer session (summary)'),
    h(
      'ol',
      {},
      t.steps.map((s) =>
        h('li', {}, `turn ${s.turn}: `, s.said ? h('span', {}, s.said, ' ') : null, (s.tools || []).map(tool)),
      ),
    ),
    t.omitted ? h('p', { class: 'muted' }, `${t.omitted} turn(s) left out`) : null,
  );
}

function diffView(diff) {
  if (!diff) return h('p', { class: 'muted' }, 'no diff (the baseline, or nothing changed)');
  const lines = diff.split('\n').map((l) => {
    const cls = /^(diff |index |--- |\+\+\+ )/.test(l)
      ? 'meta'
      : l.startsWith('@@')
        ? 'hunk'
        : l.startsWith('+')
          ? 'add'
          : l.startsWith('-')
            ? 'del'
            : 'ctx';
    return h('span', { class: cls }, l || ' ');
  });
  return h('pre', { class: 'diff', id: 'diff' }, lines);
}
