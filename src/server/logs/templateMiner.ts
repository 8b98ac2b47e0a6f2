/**
 * Online log template mining in bounded memory, one line at a time. The algorithm (docs/logs.md has the long
 * form) is Drain (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017) with
 * two changes:
 *
 * 1. Similarity counts only the template's *word* tokens (no digits, no masked value): the share of them the
 *    line repeats. Tokens that hold numbers or ids say little about which statement printed a line, and Drain's
 *    count over all tokens keeps short lines full of values from ever joining their template.
 * 2. A Drain cluster is a *family*. Where two of its lines differ in a word (`VM Paused` / `VM Resumed`,
 *    `GET` / `POST`) the position becomes a *variant* position: each word there keeps its own template while the
 *    position has shown at most `maxWordVariants` distinct words. One more distinct word (or a token with a
 *    digit or a value) and the position is a parameter: the family's templates that now read the same merge into
 *    the oldest, whose id absorbs theirs (`MinedLine.merged`, `TemplateMiner.resolve`). Enumerations stay apart;
 *    user names, hosts and other open-ended words become `<*>`.
 *
 * A template's id never changes while its text generalises; each new text is a new version.
 */
import { readLine, type LineInput } from './lineText';
import { MinerStateError, readMinerState, type MinerState } from './minerState';
import { followsNumber, generaliseToken, generaliseTokens, isPlainWord, isWord, keyLength, tokenMatches } from './templateTokens';
import { tokenize, WILDCARD, type TokenizedLine } from './tokens';

export interface MinerOptions {
  /** Leading tokens that route a line through the tree before similarity decides (Drain's depth − 2). */
  prefixTokens: number;
  /** Least share of a family's word tokens a line must repeat to join it (Drain's st). */
  similarityThreshold: number;
  /** Distinct words a variant position may show and stay a constant; 0 or 1 turns variants off (plain Drain). */
  maxWordVariants: number;
  /** Children of a tree node before further distinct tokens share the wildcard child (Drain's maxChild). */
  maxChildren: number;
  /** Templates kept; past this the least recently matched is forgotten (counted in stats.evicted). */
  maxTemplates: number;
  /** Templates one family may split into by variants; past this its busiest variant position becomes a parameter. */
  maxFamilyTemplates: number;
  /** Characters of a line that are mined; the rest is not looked at (counted in stats.truncated). */
  maxLineChars: number;
  /** Tokens of a line; the last holds the rest of the line as one parameter (counted in stats.tokensCapped). */
  maxTokens: number;
  /** Versions kept per template (the first and the latest always are). */
  maxVersions: number;
  /** Merged ids remembered for resolve(); the oldest are forgotten first. */
  maxAliases: number;
}

export const DEFAULT_MINER_OPTIONS: Readonly<MinerOptions> = {
  prefixTokens: 2,
  similarityThreshold: 0.5,
  maxWordVariants: 4,
  maxChildren: 100,
  maxTemplates: 10_000,
  maxFamilyTemplates: 64,
  maxLineChars: 16_384,
  maxTokens: 256,
  maxVersions: 16,
  maxAliases: 100_000,
};

/** What one line became. */
export interface MinedLine {
  templateId: number;
  /** The template's text after this line, wildcards as `<*>`. */
  template: string;
  /** The line's values in the template's wildcards, in order. */
  params: string[];
  /** The template's version after this line: 1 when created, +1 each time its text generalised. */
  version: number;
  /** This line created the template. */
  isNew: boolean;
  /** This line changed the template's text (a new version). */
  changed: boolean;
  /** Templates this line merged into this one (their ids now resolve to templateId). */
  merged: number[];
  /** Repairs made to the line before mining (empty when none). */
  damage: LineDamage[];
}

export type LineDamage = 'truncated' | 'invalid-utf8' | 'binary' | 'tokens-capped' | 'empty';

export interface TemplateVersion {
  version: number;
  template: string;
  /** The template's line count when this version began. */
  sinceCount: number;
}

export interface TemplateSummary {
  templateId: number;
  template: string;
  version: number;
  count: number;
  /** Versions, oldest first; past maxVersions the oldest but the first are dropped. */
  versions: TemplateVersion[];
  /** Ids merged into this template. */
  absorbed: number[];
  /** Sequence numbers (lines added so far) of the line that created it and of the last it took. */
  firstSeq: number;
  lastSeq: number;
}

export interface MinerStats {
  lines: number;
  templates: number;
  families: number;
  /** Nodes of the routing tree (bounded: rebuilt from the families when past 4 per template kept). */
  treeNodes: number;
  created: number;
  merged: number;
  evicted: number;
  truncated: number;
  invalidUtf8: number;
  binary: number;
  tokensCapped: number;
  empty: number;
}

interface Family {
  /** Drain's template: the tokens all its lines share, `<*>` elsewhere. Changed only through setToken(). */
  tokens: string[];
  /** Which tokens are words (they count toward similarity), and how many. */
  wordAt: boolean[];
  words: number;
  /** Length of each token's `key=` prefix when it is a `key=<*>` pattern, else -1. */
  keyAt: number[];
  /** Variant positions, ascending, with the words seen at each. */
  variants: Map<number, Set<string>>;
  /** Templates by the words of a line at the variant positions. */
  templates: Map<string, Template>;
  /** Tree leaves that list it: where it was created, and where lines found it through the length index. */
  leaves: Family[][];
  /** Sequence number of the last line it took: the least recent leaves a full leaf first. */
  lastSeq: number;
}

interface Template {
  id: number;
  family: Family;
  /** What all of this template's lines share, token by token (`<*>` where they differ); its text. */
  tokens: string[];
  key: string;
  text: string;
  count: number;
  version: number;
  versions: TemplateVersion[];
  absorbed: number[];
  firstSeq: number;
  lastSeq: number;
  newer: Template | undefined;
  older: Template | undefined;
}

interface TreeNode {
  children: Map<string, TreeNode>;
  families: Family[] | undefined;
}

/** Share of a line's characters that are control bytes or U+FFFD above which it is mined as binary. */
const BINARY_SHARE = 0.3;
const BINARY_TEMPLATE = '<binary>';
const EMPTY_TEMPLATE = '<empty>';
const KEY_SEPARATOR = '\u0000';
/**
 * Families compared per lookup: the last this many of a leaf, and of a length in the search before a new
 * family. Bounds the work of a line when junk makes thousands of one-line families of one shape.
 */
const MAX_SCAN = 64;
/** Tree nodes allowed per template kept before the tree is rebuilt from the families. */
const TREE_NODES_PER_TEMPLATE = 4;

export class TemplateMiner {
  readonly options: Readonly<MinerOptions>;
  private readonly root = new Map<number, TreeNode>();
  private readonly byId = new Map<number, Template>();
  private readonly aliases = new Map<number, number>();
  /** Every family by token count (for rebuilding the tree), and the MAX_SCAN most recent ones (for the search a line makes before it starts a new family). */
  private readonly byLength = new Map<number, Set<Family>>();
  private readonly recentByLength = new Map<number, Family[]>();
  private nextId = 1;
  private newest: Template | undefined;
  private oldest: Template | undefined;
  private readonly counters: MinerStats = {
    lines: 0,
    templates: 0,
    families: 0,
    treeNodes: 0,
    created: 0,
    merged: 0,
    evicted: 0,
    truncated: 0,
    invalidUtf8: 0,
    binary: 0,
    tokensCapped: 0,
    empty: 0,
  };
  private families = 0;
  private treeNodes = 0;

  constructor(options: Partial<MinerOptions> = {}) {
    this.options = { ...DEFAULT_MINER_OPTIONS, ...options };
    checkOptions(this.options);
  }

  /** Mines one line: finds or creates its template, generalising it when the line differs. */
  add(input: LineInput): MinedLine {
    const seq = ++this.counters.lines;
    const line = readLine(input, this.options.maxLineChars);
    const damage: LineDamage[] = [];
    if (line.truncated) this.damaged(damage, 'truncated');
    if (line.invalidUtf8) this.damaged(damage, 'invalid-utf8');
    const tokens = tokenize(line.text, this.options.maxTokens);
    if (tokens.tokensCapped) this.damaged(damage, 'tokens-capped');
    if (tokens.junkChars > BINARY_SHARE * line.text.length) {
      this.damaged(damage, 'binary');
      return this.addSpecial(BINARY_TEMPLATE, [line.text], seq, damage);
    }
    if (tokens.raw.length === 0) {
      this.damaged(damage, 'empty');
      return this.addSpecial(EMPTY_TEMPLATE, [], seq, damage);
    }
    return this.addTokens(tokens, seq, damage);
  }

  /** The template a line would join, without learning from it; undefined when none covers it as it is. */
  match(input: LineInput): Pick<MinedLine, 'templateId' | 'template' | 'params' | 'version'> | undefined {
    const line = readLine(input, this.options.maxLineChars);
    const tokens = tokenize(line.text, this.options.maxTokens);
    const leaf = this.peekLeaf(tokens.masked);
    const recent = this.recentByLength.get(tokens.masked.length);
    const family = (leaf && this.bestFamily(leaf, tokens.masked)) ?? (recent && this.bestFamily(recent, tokens.masked));
    const template = family?.templates.get(keyOf(family, tokens.masked));
    if (!template) return undefined;
    for (let i = 0; i < template.tokens.length; i++) {
      const t = template.tokens[i]!;
      if (t !== WILDCARD && !tokenMatches(t, tokens.masked[i]!)) return undefined;
    }
    return { templateId: template.id, template: template.text, params: paramsOf(template, tokens), version: template.version };
  }

  /** The learnt state as JSON (minerState.ts): save it, and TemplateMiner.restore() keeps every id. */
  exportState(): MinerState {
    const families = new Set<Family>();
    for (const template of this.byId.values()) families.add(template.family);
    const recency: number[] = [];
    for (let t = this.oldest; t; t = t.newer) recency.push(t.id);
    return {
      format: 1,
      nextId: this.nextId,
      stats: this.stats(),
      families: [...families].map((family) => ({
        tokens: [...family.tokens],
        variants: [...family.variants].map(([position, words]) => ({ position, words: [...words] })),
        templates: [...family.templates.values()].map((t) => ({
          id: t.id,
          tokens: [...t.tokens],
          count: t.count,
          version: t.version,
          versions: t.versions.map((v) => ({ ...v })),
          absorbed: [...t.absorbed],
          firstSeq: t.firstSeq,
          lastSeq: t.lastSeq,
        })),
      })),
      aliases: [...this.aliases],
      recency,
    };
  }

  /**
   * A miner that goes on from a saved state (exportState()), with these options. Bad state is refused with a
   * MinerStateError naming the field; templates past options.maxTemplates are forgotten, least recent first.
   */
  static restore(saved: unknown, options: Partial<MinerOptions> = {}): TemplateMiner {
    const state = readMinerState(saved);
    const miner = new TemplateMiner(options);
    miner.nextId = state.nextId;
    Object.assign(miner.counters, state.stats);
    for (const saved of state.families) miner.restoreFamily(saved);
    for (const id of state.recency) miner.linkNewest(miner.byId.get(id)!);
    for (const [from, to] of state.aliases) miner.remember(from, to);
    while (miner.byId.size > miner.options.maxTemplates) miner.evictOldest();
    return miner;
  }

  private restoreFamily(saved: MinerState['families'][number]): void {
    const leaf = this.leafFor(saved.tokens);
    const variants = [...saved.variants].sort((a, b) => a.position - b.position);
    const family = newFamily(saved.tokens, Math.max(0, ...saved.templates.map((t) => t.lastSeq)));
    family.variants = new Map(variants.map((v) => [v.position, new Set(v.words)]));
    this.listInLeaf(leaf, family);
    this.indexByLength(family);
    for (const t of saved.templates) {
      const key = keyOf(family, t.tokens);
      if (family.templates.has(key)) throw new MinerStateError(`miner state: template ${t.id} reads the same as another of its family`);
      const template: Template = { ...t, family, tokens: [...t.tokens], key, text: t.tokens.join(' '), newer: undefined, older: undefined };
      family.templates.set(key, template);
      this.byId.set(t.id, template);
    }
  }

  /** The current id of a template: itself, or the template it was merged into; undefined once forgotten. */
  resolve(templateId: number): number | undefined {
    let id = templateId;
    for (let hops = 0; hops < 64; hops++) {
      if (this.byId.has(id)) return id;
      const next = this.aliases.get(id);
      if (next === undefined) return undefined;
      id = next;
    }
    return undefined;
  }

  /** Every template with its count and versions, most frequent first. */
  templates(): TemplateSummary[] {
    return [...this.byId.values()].map(summary).sort((a, b) => b.count - a.count || a.templateId - b.templateId);
  }

  template(templateId: number): TemplateSummary | undefined {
    const id = this.resolve(templateId);
    const template = id === undefined ? undefined : this.byId.get(id);
    return template && summary(template);
  }

  stats(): MinerStats {
    return { ...this.counters, templates: this.byId.size, families: this.families, treeNodes: this.treeNodes };
  }

  private damaged(damage: LineDamage[], kind: LineDamage): void {
    damage.push(kind);
    const counter = kind === 'invalid-utf8' ? 'invalidUtf8' : kind === 'tokens-capped' ? 'tokensCapped' : kind;
    this.counters[counter]++;
  }

  private addSpecial(text: string, params: string[], seq: number, damage: LineDamage[]): MinedLine {
    const tokens: TokenizedLine = { raw: [text], masked: [text], values: [undefined], junkChars: 0, tokensCapped: false };
    return { ...this.addTokens(tokens, seq, damage), params };
  }

  private addTokens(tokens: TokenizedLine, seq: number, damage: LineDamage[]): MinedLine {
    const masked = tokens.masked;
    if (this.treeNodes > TREE_NODES_PER_TEMPLATE * this.options.maxTemplates) this.rebuildTree();
    const leaf = this.leafFor(masked);
    const family = this.bestFamily(leaf, masked) ?? this.adoptFromSameLength(leaf, masked);
    const merged: number[] = [];
    let template: Template;
    let isNew = false;
    let changed: boolean;
    if (!family) {
      template = this.createFamily(masked, leaf, seq);
      isNew = true;
      changed = false;
    } else {
      this.generalise(family, tokens, merged);
      const key = keyOf(family, masked);
      const found = family.templates.get(key);
      if (found) template = found;
      else {
        template = this.createTemplate(family, masked, key, seq);
        isNew = true;
        if (family.templates.size > this.options.maxFamilyTemplates) {
          this.closeBusiestVariant(family, merged);
          template = family.templates.get(keyOf(family, masked))!;
          isNew = !merged.includes(template.id) && template.count === 0;
        }
      }
      const version = template.version;
      if (generaliseTokens(template.tokens, masked)) this.updateText(template);
      changed = !isNew && (template.version !== version || merged.length > 0);
      this.touch(template);
    }
    template.count++;
    template.lastSeq = seq;
    template.family.lastSeq = seq;
    return {
      templateId: template.id,
      template: template.text,
      params: paramsOf(template, tokens),
      version: template.version,
      isNew,
      changed,
      merged,
      damage,
    };
  }

  /** Drain's fixed-depth tree: token count, then the first prefixTokens tokens (all but plain words route to `<*>`). */
  private leafFor(masked: string[]): Family[] {
    let node: TreeNode | undefined = this.root.get(masked.length);
    if (!node) {
      node = { children: new Map(), families: undefined };
      this.root.set(masked.length, node);
      this.treeNodes++;
    }
    const depth = Math.min(this.options.prefixTokens, masked.length);
    for (let i = 0; i < depth; i++) {
      const token = masked[i]!;
      const key = isPlainWord(token) ? token : WILDCARD;
      let child: TreeNode | undefined = node.children.get(key);
      if (!child) {
        const wildcard = node.children.get(WILDCARD);
        const full = node.children.size >= this.options.maxChildren - (wildcard ? 0 : 1);
        if (wildcard && (full || key === WILDCARD)) child = wildcard;
        else {
          child = { children: new Map(), families: undefined };
          node.children.set(full ? WILDCARD : key, child);
          this.treeNodes++;
        }
      }
      node = child;
    }
    node.families ??= [];
    return node.families;
  }

  /** The leaf a line routes to, without making nodes; undefined where the path does not exist. */
  private peekLeaf(masked: string[]): Family[] | undefined {
    let node = this.root.get(masked.length);
    const depth = Math.min(this.options.prefixTokens, masked.length);
    for (let i = 0; i < depth && node; i++) {
      const token = masked[i]!;
      node = node.children.get(isPlainWord(token) ? token : WILDCARD) ?? node.children.get(WILDCARD);
    }
    return node?.families;
  }

  /** The most similar of the last MAX_SCAN families of a list, if similar enough. */
  private bestFamily(families: Family[], masked: string[]): Family | undefined {
    let best: Family | undefined;
    let bestSimilarity = -1;
    for (let i = Math.max(0, families.length - MAX_SCAN); i < families.length; i++) {
      const family = families[i]!;
      const similarity = similarityOf(family, masked);
      if (similarity > bestSimilarity) {
        best = family;
        bestSimilarity = similarity;
      }
    }
    return best && bestSimilarity >= this.options.similarityThreshold ? best : undefined;
  }

  /** Lists a family in a leaf; a full leaf first lets go of its least recently used family. */
  private listInLeaf(leaf: Family[], family: Family): void {
    if (leaf.length >= MAX_SCAN) {
      let oldest = 0;
      for (let i = 1; i < leaf.length; i++) if (leaf[i]!.lastSeq < leaf[oldest]!.lastSeq) oldest = i;
      const [dropped] = leaf.splice(oldest, 1);
      dropped!.leaves = dropped!.leaves.filter((l) => l !== leaf);
    }
    leaf.push(family);
    family.leaves.push(leaf);
  }

  /**
   * Tree nodes are made by lines and outlive the families they led to; when there are too many for the
   * templates kept, the tree is rebuilt from the families alone (each listed under its own tokens' path).
   */
  private rebuildTree(): void {
    this.root.clear();
    this.treeNodes = 0;
    for (const sameLength of this.byLength.values()) {
      for (const family of sameLength) {
        family.leaves = [];
        this.listInLeaf(this.leafFor(family.tokens), family);
      }
    }
  }

  /**
   * Before a new family is made: a family of the same length under another prefix that the line is similar
   * to (`User alice …` then `User bob …`: the name routes them apart, similarity brings them together). The
   * family is listed in this leaf too, so the next such line finds it directly. Only runs when a line would
   * otherwise start a family, so it costs nothing on the common path.
   */
  private adoptFromSameLength(leaf: Family[], masked: string[]): Family | undefined {
    const recent = this.recentByLength.get(masked.length);
    if (!recent || (recent.length === leaf.length && this.byLength.get(masked.length)!.size === leaf.length)) return undefined;
    const family = this.bestFamily(recent, masked);
    if (family && !family.leaves.includes(leaf)) this.listInLeaf(leaf, family);
    return family;
  }

  private createFamily(masked: string[], leaf: Family[], seq: number): Template {
    const family = newFamily(masked, seq);
    this.listInLeaf(leaf, family);
    this.indexByLength(family);
    return this.createTemplate(family, masked, '', seq);
  }

  private indexByLength(family: Family): void {
    const length = family.tokens.length;
    let all = this.byLength.get(length);
    if (!all) this.byLength.set(length, (all = new Set()));
    all.add(family);
    let recent = this.recentByLength.get(length);
    if (!recent) this.recentByLength.set(length, (recent = []));
    recent.push(family);
    if (recent.length > MAX_SCAN) recent.shift();
    this.families++;
  }

  private createTemplate(family: Family, masked: string[], key: string, seq: number): Template {
    if (this.byId.size >= this.options.maxTemplates) this.evictOldest();
    const text = masked.join(' ');
    const template: Template = {
      id: this.nextId++,
      family,
      tokens: [...masked],
      key,
      text,
      count: 0,
      version: 1,
      versions: [{ version: 1, template: text, sinceCount: 0 }],
      absorbed: [],
      firstSeq: seq,
      lastSeq: seq,
      newer: undefined,
      older: undefined,
    };
    family.templates.set(key, template);
    this.byId.set(template.id, template);
    this.counters.created++;
    this.linkNewest(template);
    return template;
  }

  /**
   * Drain's update, with variants: a word that differs from the family's word opens a variant position; a
   * variant position that sees a non-word or one distinct word too many closes (becomes a parameter).
   */
  private generalise(family: Family, line: TokenizedLine, merged: number[]): void {
    const tokens = family.tokens;
    const masked = line.masked;
    const limit = this.options.maxWordVariants;
    let closing: number[] | undefined;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const m = masked[i]!;
      if (t === WILDCARD) {
        const seen = family.variants.get(i);
        if (!seen || seen.has(m)) continue;
        if (isPlainWord(m) && seen.size < limit && !followsNumber(line.raw, i)) seen.add(m);
        else (closing ??= []).push(i);
        continue;
      }
      if (tokenMatches(t, m)) continue;
      if (limit >= 2 && isPlainWord(t) && isPlainWord(m) && !followsNumber(line.raw, i)) {
        setToken(family, i, WILDCARD);
        this.openVariant(family, i, t, m);
        continue;
      }
      setToken(family, i, generaliseToken(t, m));
    }
    if (closing) this.closeVariants(family, closing, merged);
  }

  private openVariant(family: Family, position: number, current: string, next: string): void {
    const entries: [number, Set<string>][] = [...family.variants, [position, new Set([current, next])]];
    family.variants = new Map(entries.sort((a, b) => a[0] - b[0]));
    const rekeyed = new Map<string, Template>();
    for (const template of family.templates.values()) {
      template.key = keyOf(family, template.tokens);
      rekeyed.set(template.key, template);
    }
    family.templates = rekeyed;
  }

  /** Makes the positions parameters; templates that now read the same merge into the oldest of them. */
  private closeVariants(family: Family, positions: number[], merged: number[]): void {
    for (const position of positions) family.variants.delete(position);
    const rekeyed = new Map<string, Template>();
    const ordered = [...family.templates.values()].sort((a, b) => a.id - b.id);
    for (const template of ordered) {
      template.key = keyOf(family, template.tokens);
      const survivor = rekeyed.get(template.key);
      if (!survivor) {
        rekeyed.set(template.key, template);
        continue;
      }
      survivor.count += template.count;
      survivor.firstSeq = Math.min(survivor.firstSeq, template.firstSeq);
      survivor.lastSeq = Math.max(survivor.lastSeq, template.lastSeq);
      survivor.absorbed.push(template.id, ...template.absorbed);
      if (generaliseTokens(survivor.tokens, template.tokens)) this.updateText(survivor);
      this.forget(template);
      this.remember(template.id, survivor.id);
      merged.push(template.id);
      this.counters.merged++;
    }
    family.templates = rekeyed;
  }

  private closeBusiestVariant(family: Family, merged: number[]): void {
    let busiest: number | undefined;
    let most = -1;
    for (const [position, seen] of family.variants) {
      if (seen.size > most) {
        busiest = position;
        most = seen.size;
      }
    }
    if (busiest !== undefined) this.closeVariants(family, [busiest], merged);
  }

  private updateText(template: Template): void {
    const text = template.tokens.join(' ');
    if (text === template.text) return;
    template.text = text;
    template.version++;
    template.versions.push({ version: template.version, template: text, sinceCount: template.count });
    if (template.versions.length > this.options.maxVersions) template.versions.splice(1, 1);
  }

  private remember(from: number, to: number): void {
    this.aliases.set(from, to);
    if (this.aliases.size > this.options.maxAliases) {
      const oldest = this.aliases.keys().next();
      if (!oldest.done) this.aliases.delete(oldest.value);
    }
  }

  private evictOldest(): void {
    const victim = this.oldest;
    if (!victim) return;
    this.forget(victim);
    this.counters.evicted++;
  }

  /** Removes a template from every index; its family goes too once empty. */
  private forget(template: Template): void {
    this.unlink(template);
    this.byId.delete(template.id);
    const family = template.family;
    if (family.templates.get(template.key) === template) family.templates.delete(template.key);
    if (family.templates.size === 0) {
      for (const list of [...family.leaves, this.recentByLength.get(family.tokens.length) ?? []]) {
        const at = list.indexOf(family);
        if (at >= 0) list.splice(at, 1);
      }
      this.byLength.get(family.tokens.length)?.delete(family);
      this.families--;
    }
  }

  private linkNewest(template: Template): void {
    template.older = this.newest;
    template.newer = undefined;
    if (this.newest) this.newest.newer = template;
    this.newest = template;
    this.oldest ??= template;
  }

  private unlink(template: Template): void {
    if (template.newer) template.newer.older = template.older;
    else if (this.newest === template) this.newest = template.older;
    if (template.older) template.older.newer = template.newer;
    else if (this.oldest === template) this.oldest = template.newer;
    template.newer = template.older = undefined;
  }

  private touch(template: Template): void {
    if (this.newest === template) return;
    this.unlink(template);
    this.linkNewest(template);
  }
}

function checkOptions(o: MinerOptions): void {
  const whole = (name: keyof MinerOptions, min: number) => {
    if (!Number.isInteger(o[name]) || o[name] < min) throw new RangeError(`${name} must be a whole number ≥ ${min}, not ${o[name]}`);
  };
  whole('prefixTokens', 0);
  whole('maxWordVariants', 0);
  whole('maxChildren', 2);
  whole('maxTemplates', 1);
  whole('maxFamilyTemplates', 1);
  whole('maxLineChars', 16);
  whole('maxTokens', 2);
  whole('maxVersions', 2);
  whole('maxAliases', 0);
  if (!(o.similarityThreshold >= 0 && o.similarityThreshold <= 1)) throw new RangeError(`similarityThreshold must be within 0..1, not ${o.similarityThreshold}`);
}

function newFamily(tokens: readonly string[], seq: number): Family {
  const family: Family = { tokens: [], wordAt: [], words: 0, keyAt: [], variants: new Map(), templates: new Map(), leaves: [], lastSeq: seq };
  for (let i = 0; i < tokens.length; i++) {
    family.tokens.push('');
    family.wordAt.push(false);
    family.keyAt.push(-1);
    setToken(family, i, tokens[i]!);
  }
  return family;
}

function setToken(family: Family, position: number, token: string): void {
  if (family.wordAt[position]) family.words--;
  family.tokens[position] = token;
  const word = isWord(token);
  family.wordAt[position] = word;
  if (word) family.words++;
  family.keyAt[position] = keyLength(token);
}

/** The share of the family's word tokens the line repeats (1 when the family has none). */
function similarityOf(family: Family, masked: string[]): number {
  if (family.words === 0) return 1;
  const { tokens, wordAt, keyAt } = family;
  let same = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (!wordAt[i]) continue;
    const t = tokens[i]!;
    const m = masked[i]!;
    if (t === m || (keyAt[i]! > 0 && m.length >= keyAt[i]! && m.startsWith(t.slice(0, keyAt[i])))) same++;
  }
  return same / family.words;
}

/** The words of `tokens` at the family's variant positions. */
function keyOf(family: Family, tokens: readonly string[]): string {
  let key = '';
  for (const position of family.variants.keys()) key += tokens[position]! + KEY_SEPARATOR;
  return key;
}

function paramsOf(template: Template, tokens: TokenizedLine): string[] {
  const params: string[] = [];
  const own = template.tokens;
  for (let i = 0; i < own.length; i++) {
    const t = own[i]!;
    const m = tokens.masked[i]!;
    if (t === WILDCARD) params.push(tokens.raw[i]!);
    else if (t === m) {
      const values = tokens.values[i];
      if (values) params.push(...values);
    } else params.push(tokens.raw[i]!.slice(keyLength(t)));
  }
  return params;
}

function summary(t: Template): TemplateSummary {
  return {
    templateId: t.id,
    template: t.text,
    version: t.version,
    count: t.count,
    versions: t.versions.map((v) => ({ ...v })),
    absorbed: [...t.absorbed],
    firstSeq: t.firstSeq,
    lastSeq: t.lastSeq,
  };
}
