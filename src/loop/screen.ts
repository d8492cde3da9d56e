/**
 * The diff screen: reads a proposal's diff before it runs and rejects changes that go after the
 * number rather than the model. Three rules (each reason names its rule, file and line):
 *
 * (a) metric output: an added line that prints the objective's name (print / console.log /
 *     write / logging with the metric in it), a string literal naming it (also spelt across
 *     concatenated or reversed literals on the added lines of a file), a `METRIC` literal, a
 *     `---` separator, or an assignment to a variable named like the objective.
 * (b) protected names: an added line that assigns to, rebinds, shadows, aliases or wraps a name
 *     imported from a protected file (`evaluate_bpb = ...`, `prepare.X = ...`, `def evaluate_bpb(`,
 *     a parameter, loop variable, `as` or `import` binding of that name, `setattr(prepare, ...)`,
 *     `getattr(prepare, ...)`, passing `evaluate_bpb` as a value, e.g. to a wrapper or decorator);
 *     rebinding output (`print =`, `builtins.print`, `sys.stdout =`, `console.log =`, `os.dup2`,
 *     redirect_stdout); dynamic code and introspection that could do any of that unseen
 *     (`exec(`, `eval(`, `compile(`, `__import__`, `importlib`, `sys.modules`, `globals()`,
 *     `vars(`, `__dict__`, `__code__`, `__globals__`, `builtins`, `ctypes`, `gc.get_objects`,
 *     frames, `__file__`, `chr(`/`fromCharCode`/`b64decode` string building, `globalThis`,
 *     raw descriptors (`os.write`, `os.dup2`, `os._exit`), child processes and exit handlers
 *     (`subprocess`, `os.fork`, `atexit`, `child_process`),
 *     `Function(`, `Reflect`, `Object.defineProperty`); code that detects the evaluation
 *     (a branch on `reduction`, `torch.is_grad_enabled()`, inference mode).
 * (c) seeds: any change of how the run is seeded: an assignment to a name containing "seed"
 *     (SEED = 42, seed = ...), a seeding call (torch.manual_seed, torch.cuda.manual_seed(_all),
 *     random.seed, np.random.seed, RandomState, default_rng, Generator, makeRng, ...) or an
 *     expression over a seed name that is added, removed or altered. Lines moved unchanged pass
 *     (added and removed seed fragments are compared as multisets).
 * Also rejected: a diff truncated for size or with a binary change (it cannot be read).
 *
 * When it applies (decided here, see proposals.ts and slot-worker.ts): rules (b) and (c) always.
 * With `[run].evaluate` set, the edited model still runs inside the evaluation process (its
 * forward pass, and module-level code when the evaluation rebuilds the model from the edited
 * file), so rebinding a protected name still reaches the score; and the harness varies seeds
 * itself (judge.vary_seed), so a changed seed is never a research result. Rule (a) only when
 * `[run].evaluate` is unset: with it, training's metric lines are ignored, so printing them is
 * harmless, and the rule would only cost false rejections (a metric named `loss` is in many
 * honest log lines).
 *
 * What it does NOT catch (a screen, not a proof; the protected evaluate step is the real fix):
 * - a change of the model's own loss that only acts at evaluation time without a branch we
 *   recognise (e.g. on `self.training`, or scaling the loss returned for reduction='none'
 *   inside arithmetic), or a model that looks at future tokens;
 * - the metric's value built from non-literal sources (read from a data file, from the
 *   process's environment, from another module's strings), or names spelt with arithmetic on
 *   characters we do not list; multi-line strings are read line by line;
 * - monkeypatching libraries the evaluation uses (torch, math, numpy: `torch.Tensor.sum = ...`,
 *   `F.cross_entropy = ...`) and aliasing through objects (`cfg.f = evaluate_bpb` then calling
 *   through it is flagged, but `x = [prepare][0]` is only caught because `prepare` is used as
 *   a value);
 * - seed changes through names that do not contain seed/rng (a plain `base = 1` later used as
 *   a seed), or through data order (shuffling differently);
 * - anything done by a file that is not in the diff (protected files are hashed separately)
 *   and native code loaded from a data path.
 *
 * Contract: pure, never throws; returns the first violation in diff order.
 */
import { mergeImports, importsInStatement, type ProtectedImports } from './protected-imports.js';
import {
  assignTargets,
  lexLine,
  parseDiff,
  statements,
  type DiffLine,
  type FileChange,
  type Lang,
  type Statement,
} from './screen-lex.js';

export interface ScreenContext {
  /** The objective's name (rule a). */
  metric: string;
  /** Names the editable files import from protected files (see protectedImports). */
  protectedModules: ProtectedImports;
  /** Protected file paths, to recognise imports the diff itself adds. */
  protectedPaths?: string[];
  /** Extra names treated as seeds (rule c), besides names containing seed/rng. */
  seedNames?: string[];
  /** Rule (a) on (default true): set false when `[run].evaluate` produces the objective. */
  metricOutput?: boolean;
}

export type ScreenResult = { ok: true } | { ok: false; reason: string };

type Stmt = Statement;
type Hit = string | null;

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const wordRe = (w: string, flags = '') => new RegExp(`(?<![\\w$])${esc(w)}(?![\\w$])`, flags);
const isConst = (n: string) => /^[A-Z][A-Z0-9_]*$/.test(n);
const isClass = (n: string) => /^[A-Z]/.test(n) && !isConst(n);
const snippet = (t: string) => JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t);

export function screenDiff(diff: string, ctx: ScreenContext): ScreenResult {
  if (diff.includes('[autoresearch: diff truncated'))
    return { ok: false, reason: 'screen: the diff is too large to screen (truncated); make a smaller change' };
  for (const f of parseDiff(diff)) {
    if (f.binary) return { ok: false, reason: `screen: ${f.path} has a binary change, which cannot be screened` };
    const hit = screenFile(f, ctx);
    if (hit) return { ok: false, reason: hit };
  }
  return { ok: true };
}

function screenFile(f: FileChange, ctx: ScreenContext): Hit {
  const stmts = statements(f.added, f.lang);
  let imports = ctx.protectedModules;
  const added = stmts.map((s) => importsInStatement(s.code, f.lang, f.path, ctx.protectedPaths ?? [], [], s.strings));
  imports = mergeImports(imports, ...added);
  const at = (s: Stmt) => `${f.path}:${s.n}`;
  for (const [i, s] of stmts.entries()) {
    const isProtectedImport = added[i]!.names.length > 0 || added[i]!.modules.length > 0;
    const a = ctx.metricOutput === false ? null : ruleMetric(s, f.lang, ctx.metric);
    if (a) return `rule (a) metric output: ${at(s)} ${a}: ${snippet(s.text)}`;
    const b = ruleProtected(s, f.lang, imports, isProtectedImport);
    if (b) return `rule (b) protected names: ${at(s)} ${b}: ${snippet(s.text)}`;
  }
  const all = stmts.flatMap((s) => s.strings).join('');
  if (ctx.metricOutput !== false && spells(all, ctx.metric)) {
    return `rule (a) metric output: ${f.path} spells the objective's name "${ctx.metric}" across string literals of added lines ${stmts[0]?.n ?? ''}-${stmts.at(-1)?.n ?? ''}`;
  }
  const spelt = imports.names.filter((n) => !isConst(n) && !isClass(n)).find((n) => all.includes(n));
  if (spelt)
    return `rule (b) protected names: ${f.path} spells the protected name "${spelt}" in string literals of its added lines`;
  return ruleSeed(f, ctx.seedNames ?? []);
}

function spells(text: string, name: string): boolean {
  const t = text.toLowerCase();
  const n = name.toLowerCase();
  return t.includes(n) || [...t].reverse().join('').includes(n);
}

// ---------------------------------------------------------------------------------- rule (a)

const OUTPUT_CALL =
  /(?<![\w$])(?:print|pprint|echo|printf|log|write|writelines|info|warning|warn|debug|error|critical|exception|dump|dumps|format|format_map|emit|send|tqdm|set_description|set_postfix)\s*\(|console\.|process\.(?:stdout|stderr)|sys\.(?:stdout|stderr)|os\.write|logging\.|logger\.|print\s+/;

function ruleMetric(s: Stmt, lang: Lang, metric: string): Hit {
  if (lang === 'other')
    return s.text.toLowerCase().includes(metric.toLowerCase()) ? `mentions the objective "${metric}"` : null;
  if (s.strings.some((x) => spells(x, metric)) || spells(s.strings.join(''), metric))
    return `adds a string naming the objective "${metric}"`;
  if (s.strings.some((x) => /\bMETRIC\b/.test(x))) return 'adds a METRIC output line';
  if (
    s.strings.some((x) => /^\s*-{3,}\s*$/.test(x) || /(?:^|\n)\s*---\s*(?:\n|$)/.test(x)) ||
    /(['"`])-+\1\s*\*\s*\d/.test(s.text)
  ) {
    return 'adds the "---" summary separator';
  }
  const w = wordRe(metric);
  if (!w.test(s.code)) return null;
  if (assignTargets(s.code).some((t) => w.test(t)) || bindsName(s.code, metric))
    return `assigns the objective's variable "${metric}"`;
  if (OUTPUT_CALL.test(s.code)) return `prints the objective "${metric}"`;
  return null;
}

// ---------------------------------------------------------------------------------- rule (b)

/** Statements that bind `name` other than by `=`: def/class/function, parameters, loop and
 *  `as` targets, imports, global/nonlocal/del, JS declarations. */
function bindsName(code: string, name: string): boolean {
  const w = esc(name);
  const inList = (re: RegExp) => {
    const m = re.exec(code);
    return m !== null && wordRe(name).test(m[1]!);
  };
  return (
    new RegExp(`^\\s*(?:async\\s+)?(?:def|class|function\\*?)\\s+${w}(?![\\w$])`).test(code) ||
    new RegExp(`(?:^|[^\\w$.])(?:const|let|var)\\s+[^=]*(?<![\\w$])${w}(?![\\w$])`).test(code) ||
    inList(/^\s*(?:async\s+)?def\s+[\w]+\s*\((.*)\)/) ||
    inList(/function\s*\*?\s*[\w$]*\s*\(([^)]*)\)/) ||
    inList(/\(([^()]*)\)\s*=>/) ||
    new RegExp(`(?<![\\w$.])${w}\\s*=>`).test(code) ||
    inList(/\blambda\b([^:]*):/) ||
    inList(/\bfor\s*\(?\s*(?:const|let|var)?\s*(.+?)\s+(?:in|of)\b/) ||
    new RegExp(`\\bas\\s+${w}(?![\\w$])`).test(code) ||
    inList(/^\s*(?:from\s+\S+\s+)?import\b(.*)$/) ||
    inList(/^\s*(?:global|nonlocal|del)\b(.*)$/) ||
    inList(/\bexcept\b.*\bas\b(.*):/)
  );
}

const DYNAMIC: [RegExp, string][] = [
  [/(?<![\w$.])(?:exec|eval|compile|execfile|Function)\s*\(|\bnew\s+Function\b/, 'runs dynamic code'],
  [/__import__|\bimportlib\b|\bsys\.modules\b|(?<![\w$.])require\s*\(|(?<![\w$.])import\s*\(/, 'imports dynamically'],
  [/(?<![\w$.])(?:globals|locals|vars)\s*\(/, 'reads or writes a namespace dictionary'],
  [
    /__(?:dict|globals|code|defaults|kwdefaults|closure|wrapped|builtins|func|self|loader|spec|setattr|getattribute|delattr)__/,
    'touches function or module internals',
  ],
  [
    /\bbuiltins\b|\bglobalThis\b|\bReflect\.|\bObject\.(?:defineProperty|defineProperties|assign|setPrototypeOf)\b|\bprocess\.binding\b/,
    'reaches the builtins or globals',
  ],
  [
    /\bctypes\b|\bgc\.get_(?:objects|referrers|referents)\b|\bsys\.(?:_getframe|settrace|setprofile|addaudithook)\b|\bf_(?:globals|locals|back)\b|\bcurrentframe\b|\binspect\.(?:getsource|stack)\b/,
    'uses interpreter internals',
  ],
  [/__file__|\b__filename\b|\bimport\.meta\b/, "reads its own source's location"],
  [
    /(?<![\w$])(?:chr|unichr)\s*\(|fromCharCode|fromCodePoint|\bfromhex\b|b64decode|b32decode|\bcodecs\.|\batob\s*\(|\bunhexlify\b|\brot13\b/,
    'builds strings from character codes or encodings',
  ],
  [
    /\bos\.(?:dup2?|fdopen|close|write|_exit)\s*\(|redirect_std(?:out|err)|\/dev\/std(?:out|err)|\/proc\/self\/fd|\bopen\s*\(\s*\d+\s*[,)]/,
    'writes to or redirects a raw file descriptor, or exits past the evaluation',
  ],
  [
    /\batexit\b|\bsubprocess\b|\bos\.(?:system|fork|forkpty|spawn\w*|exec\w*|popen|posix_spawn\w*)\s*\(|\bpty\b|\bchild_process\b|\bprocess\.(?:on|once|addListener|prependListener)\s*\(/,
    'starts processes or exit handlers that could print after the evaluation',
  ],
  [
    /\breduction\s*(?:==|!=|===|!==|\bin\b|\bis\b)|\bif\s+(?:not\s+)?reduction\b|is_grad_enabled|is_inference_mode_enabled|\bis_inference\s*\(/,
    'detects the evaluation (branches on reduction or grad mode)',
  ],
];
const OUTPUT_TARGET =
  /(?<![\w$.])(?:print|sys\.(?:stdout|stderr|__stdout__|__stderr__|displayhook|excepthook)|os\.write|console|process\.(?:stdout|stderr))(?![\w$])/;

function ruleProtected(s: Stmt, lang: Lang, imports: ProtectedImports, isProtectedImport: boolean): Hit {
  if (lang === 'other') return null;
  const c = s.code;
  for (const [re, what] of DYNAMIC) if (re.test(c)) return what;
  const targets = assignTargets(c);
  if (targets.some((t) => OUTPUT_TARGET.test(t)) || bindsName(c, 'print')) return 'rebinds an output function';
  if (isProtectedImport) return null;
  for (const m of imports.modules) {
    const w = esc(m);
    if (targets.some((t) => wordRe(m).test(t)) || bindsName(c, m))
      return `assigns to or rebinds "${m}", a protected module`;
    if (new RegExp(`\\b(?:setattr|delattr|getattr|hasattr)\\s*\\(\\s*${w}(?![\\w$])`).test(c))
      return `accesses the protected module "${m}" by name`;
    if (new RegExp(`(?<![\\w$.])${w}(?![\\w$])(?!\\s*\\.)`).test(c))
      return `uses the protected module "${m}" as a value (aliasing)`;
    const attr = new RegExp(`(?<![\\w$.])${w}\\s*\\.\\s*([a-z_][\\w$]*)(?![\\w$])(?!\\s*[(.])`, 'g');
    for (const a of c.matchAll(attr))
      if (!isConst(a[1]!)) return `uses "${m}.${a[1]}" as a value (aliasing or wrapping)`;
  }
  for (const n of imports.names) {
    const w = esc(n);
    if (targets.some((t) => wordRe(n).test(t)) || bindsName(c, n))
      return `assigns to, rebinds or shadows "${n}", a name imported from a protected file`;
    if (new RegExp(`\\b(?:setattr|delattr)\\s*\\(\\s*${w}(?![\\w$])`).test(c))
      return `sets an attribute of "${n}", a name imported from a protected file`;
    if (!isConst(n) && !isClass(n)) {
      const asValue = new RegExp(`(?<![\\w$.])${w}(?![\\w$])(?!\\s*[(.])(?!\\s*=[^=])`);
      if (asValue.test(c)) return `uses "${n}" as a value (aliasing or wrapping a name imported from a protected file)`;
    }
  }
  if (s.strings.some((x) => imports.specifiers.includes(x))) return 'names a protected module in a string';
  return null;
}

// ---------------------------------------------------------------------------------- rule (c)

const SEED_WORD = '[\\w$.]*(?:seed|rng|randomstate|prngkey)[\\w$]*';
const ARITH = '\\s*[-+*/%^&|]\\s*';
const CALL = '(?:\\s*\\([^()]*(?:\\([^()]*\\)[^()]*)*\\))?';
const OPERAND = `[\\w$.]+${CALL}`;

function seedFragments(
  lines: DiffLine[],
  lang: Lang,
  extra: string[],
): { n: number; frag: string; bare: boolean; text: string }[] {
  const out: { n: number; frag: string; bare: boolean; text: string }[] = [];
  const words = [SEED_WORD, ...extra.map(esc)].join('|');
  const expr = new RegExp(`(?:${OPERAND}${ARITH})*(?:${words})${CALL}(?:${ARITH}${OPERAND})*`, 'gi');
  const mention = new RegExp(`(?<![\\w$])(?:${words})`, 'i');
  for (const l of lines) {
    const lx = lexLine(l.text, lang === 'other' ? 'python' : lang);
    const code = lx.code;
    const norm = (x: string) => x.replace(/\s+/g, '');
    if (/AUTORESEARCH_SEED/.test(l.text)) {
      out.push({ n: l.n, frag: norm(l.text.replace(/\s+#.*$/, '')), bare: false, text: l.text.trim() });
      continue;
    }
    if (!mention.test(code)) continue;
    if (assignTargets(code).some((t) => mention.test(t))) {
      out.push({
        n: l.n,
        frag: norm(lang === 'other' ? l.text : code + JSON.stringify(lx.strings)),
        bare: false,
        text: l.text.trim(),
      });
      continue;
    }
    for (const m of code.matchAll(expr)) {
      const frag = norm(m[0]);
      out.push({ n: l.n, frag, bare: /^[\w$.]+$/.test(frag), text: l.text.trim() });
    }
  }
  return out;
}

function ruleSeed(f: FileChange, extra: string[]): Hit {
  const added = seedFragments(f.added, f.lang, extra);
  const removed = seedFragments(f.removed, f.lang, extra);
  const left = [...removed];
  const unmatchedAdded: typeof added = [];
  for (const a of added) {
    const i = left.findIndex((r) => r.frag === a.frag);
    if (i >= 0) left.splice(i, 1);
    else unmatchedAdded.push(a);
  }
  const add = unmatchedAdded.find((a) => !a.bare);
  if (add) {
    const was = left[0] ? ` (was line ${left[0].n}: ${snippet(left[0].text)})` : '';
    return `rule (c) seed: ${f.path}:${add.n} changes how the run is seeded: ${snippet(add.text)}${was}`;
  }
  if (left[0])
    return `rule (c) seed: ${f.path} removes or changes seeding at old line ${left[0].n}: ${snippet(left[0].text)}`;
  return null;
}
