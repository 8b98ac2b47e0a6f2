/**
 * The flamegraph panel: renders what the extension sends (a laid-out flame model, a sandwich, a top table);
 * computes nothing heavier than search matches. Every name and path is set as text, never as HTML.
 */
import { formatPercent, formatProfileValue } from '../../src/common/profileFormat';
import { functionKey, SELECTION_RANGES, type FlameData, type FlameFromWebview, type FlameToWebview, type FlameTopRow, type FlameTransform, type FlameView } from '../../src/protocol/flamegraph';
import { h, icon } from '../shared/dom';
import { createMessenger } from '../shared/messenger';
import { isCollapsed, isFolded } from './colors';
import { FlameRenderer, type DiffColouring, type Orientation } from './renderer';

const messenger = createMessenger<FlameToWebview, FlameFromWebview>();
const app = document.getElementById('app')!;

interface State {
  view?: FlameView;
  data?: FlameData;
  top: FlameTopRow[];
  orientation: Orientation;
  mode: 'graph' | 'sandwich';
  diffLayout: 'overlay' | 'side-by-side';
  diffColouring: DiffColouring;
  query: string;
  transform: FlameTransform;
  sandwich?: Extract<FlameToWebview, { type: 'sandwich' }>;
  firstFrameReported: boolean;
  modelReceivedAt: number;
}

const state: State = {
  top: [],
  orientation: 'icicle',
  mode: 'graph',
  diffLayout: 'overlay',
  diffColouring: 'absolute',
  query: '',
  transform: { onlyMyCode: false, hidden: [] },
  firstFrameReported: false,
  modelReceivedAt: 0,
};

// ---- layout ---------------------------------------------------------------------------------------------
const title = h('h1', {}, icon('flame'), 'Flamegraph');
const subtitle = h('p', { class: 'subtitle' }, 'Waiting for a profile…');
const problems = h('div', { class: 'problems' });

const button = (label: string, iconName: string, hint: string, onClick: () => void) => {
  const b = h('button', { class: 'secondary', title: hint }, icon(iconName), label);
  b.addEventListener('click', onClick);
  return b;
};
const flameButton = button('Flame', 'flame', 'Root at the bottom', () => setOrientation('flame'));
const icicleButton = button('Icicle', 'list-tree', 'Root at the top', () => setOrientation('icicle'));
const resetButton = button('Reset zoom', 'zoom-out', 'Back to the whole profile (Home)', () => zoom(0));
const graphButton = button('Graph', 'graph', 'The whole call tree', () => setMode('graph'));
const sandwichButton = button('Sandwich', 'split-vertical', 'Callers and callees of the selected function (S)', () => openSandwich());
const search = h('input', { class: 'search', title: 'Search frames by name or file (regular expression; / to focus)' });
search.type = 'search';
search.placeholder = 'Search (regex)…';
search.setAttribute('aria-label', 'Search frames');
const matchShare = h('span', { class: 'match-share', role: 'status' });
const onlyMyCode = h('input');
onlyMyCode.type = 'checkbox';
onlyMyCode.id = 'only-my-code';
const onlyMyCodeLabel = h('label', { title: 'Collapse node_modules, Node internals and runtime frames into one frame per package' }, onlyMyCode, 'Only my code');
const sampleType = h('select', { title: 'Sample type' });
sampleType.setAttribute('aria-label', 'Sample type');
const diffColouring = h('select', { title: 'Diff colouring' });
diffColouring.setAttribute('aria-label', 'Diff colouring');
for (const [value, label] of [
  ['absolute', 'Absolute change (unchanged stays grey)'],
  ['relative', 'Relative change (share of total)'],
]) {
  const o = h('option', {}, label);
  o.value = value!;
  diffColouring.append(o);
}
const diffLayout = h('select', { title: 'Diff layout' });
diffLayout.setAttribute('aria-label', 'Diff layout');
for (const [value, label] of [
  ['overlay', 'Overlay'],
  ['side-by-side', 'Side by side'],
]) {
  const o = h('option', {}, label);
  o.value = value!;
  diffLayout.append(o);
}
const diffControls = h('span', { class: 'diff-controls' }, diffColouring, diffLayout);
const toolbar = h(
  'div',
  { class: 'toolbar flame-toolbar', role: 'toolbar' },
  h('span', { class: 'group' }, flameButton, icicleButton),
  h('span', { class: 'group' }, graphButton, sandwichButton),
  resetButton,
  search,
  matchShare,
  onlyMyCodeLabel,
  sampleType,
  diffControls,
);
// Fleet profiles: the time range and label filter of the selection shown.
const rangeSelect = h('select', { title: 'Time range' });
rangeSelect.setAttribute('aria-label', 'Time range');
for (const r of SELECTION_RANGES) {
  const o = h('option', {}, r.label);
  o.value = String(r.ms);
  rangeSelect.append(o);
}
const whereInput = h('input', { class: 'where', title: 'Only pods whose labels equal these: service=gateway,region=eu' });
whereInput.type = 'text';
whereInput.placeholder = 'labels: service=gateway,region=eu';
whereInput.setAttribute('aria-label', 'Label filter');
const applySelection = h('button', { title: 'Select the fleet profiles of this range and labels' }, icon('refresh'), ' Apply');
const selectionBar = h('div', { class: 'toolbar selection-bar', role: 'toolbar' }, icon('history'), rangeSelect, whereInput, applySelection);
selectionBar.hidden = true;
const sendSelection = () => post({ type: 'select', rangeMs: Number(rangeSelect.value), where: whereInput.value.trim() });
applySelection.addEventListener('click', sendSelection);
rangeSelect.addEventListener('change', sendSelection);
whereInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') sendSelection();
});
const chips = h('div', { class: 'chips' });
const breadcrumbs = h('nav', { class: 'breadcrumbs', title: 'Zoomed-in path: click to zoom out to a frame' });
breadcrumbs.setAttribute('aria-label', 'Zoom path');
const graphArea = h('div', { class: 'graph-area' });
const details = h('section', { class: 'details card', data: { panel: 'details' } });
const topTable = h('table', { class: 'top-table' });
const foot = h('p', { class: 'muted foot' });
const tooltip = h('div', { class: 'tooltip', role: 'tooltip' });
tooltip.hidden = true;
app.append(title, subtitle, problems, selectionBar, toolbar, chips, breadcrumbs, graphArea, h('div', { class: 'below' }, details, h('section', { class: 'card top' }, h('h2', {}, icon('list-ordered'), 'Top functions'), topTable)), foot, tooltip);

// ---- renderers ------------------------------------------------------------------------------------------
function makeRenderer(label: string, owner: () => FlameData | undefined, onActivate: (node: number) => void): FlameRenderer {
  const r: FlameRenderer = new FlameRenderer(
    {
      hover: (node, x, y) => showTooltip(owner(), node, x, y),
      activate: (node) => onActivate(node),
      open: (node) => openSource(owner(), node),
      viewChanged: () => renderBreadcrumbs(),
    },
    label,
  );
  r.element.addEventListener('keydown', (e) => onKey(e, r, owner));
  return r;
}

const main = makeRenderer('Flamegraph', () => state.data, (node) => activate(node));
const baseSide = makeRenderer('Flamegraph of the base', () => state.data, (node) => activate(node));
baseSide.setSide('base');
const callers = makeRenderer('Callers of the function', () => state.sandwich?.callers, (node) => callers.zoomTo(node));
const callees = makeRenderer('Callees of the function', () => state.sandwich?.callees, (node) => callees.zoomTo(node));

/** Puts the renderers the mode needs in the graph area (leaving them be when they are already there). */
function layoutGraphArea(): void {
  let layout: 'sandwich' | 'side-by-side' | 'single' = 'single';
  if (state.mode === 'sandwich' && state.sandwich) layout = 'sandwich';
  else if (state.view?.diff && state.diffLayout === 'side-by-side') layout = 'side-by-side';
  if (graphArea.dataset.layout === layout) return;
  graphArea.dataset.layout = layout;
  graphArea.replaceChildren();
  graphArea.className = 'graph-area';
  if (layout === 'sandwich') {
    graphArea.classList.add('sandwich');
    graphArea.append(
      h('div', { class: 'pane' }, h('h3', {}, 'Callers of ', state.sandwich!.name), callers.element),
      h('div', { class: 'pane' }, h('h3', {}, 'Callees of ', state.sandwich!.name), callees.element),
    );
    return;
  }
  if (layout === 'side-by-side') {
    graphArea.classList.add('side-by-side');
    graphArea.append(h('div', { class: 'pane' }, h('h3', {}, 'Base'), baseSide.element), h('div', { class: 'pane' }, h('h3', {}, 'Current'), main.element));
    return;
  }
  graphArea.append(main.element);
}

// ---- actions --------------------------------------------------------------------------------------------
function post(message: FlameFromWebview): void {
  messenger.post(message);
}

function setOrientation(orientation: Orientation): void {
  state.orientation = orientation;
  for (const r of [main, baseSide]) r.setOrientation(orientation);
  flameButton.classList.toggle('active', orientation === 'flame');
  icicleButton.classList.toggle('active', orientation === 'icicle');
}

function setMode(mode: 'graph' | 'sandwich'): void {
  state.mode = mode;
  graphButton.classList.toggle('active', mode === 'graph');
  sandwichButton.classList.toggle('active', mode === 'sandwich');
  layoutGraphArea();
}

function zoom(node: number): void {
  main.zoomTo(node);
  if (state.view?.diff) baseSide.zoomTo(node);
  renderBreadcrumbs();
}

function activate(node: number): void {
  const d = state.data;
  if (!d) return;
  if (isFolded(d.kind[node]!)) {
    // A folded node: ask for its parent's subtree unfolded, then zoom to the parent.
    post({ type: 'expand', id: d.id[node]! });
    return;
  }
  main.select(node);
  baseSide.select(node);
  zoom(node);
  renderDetails(node);
}

function openSource(d: FlameData | undefined, node: number): void {
  if (!d || node < 0) return;
  const file = d.files[d.file[node]!] ?? '';
  if (!file) return;
  post({ type: 'openSource', file, line: d.line[node]! });
}

function openSandwich(node = main.selected): void {
  const d = state.data;
  if (!d || node <= 0 || isFolded(d.kind[node]!)) {
    setMode('graph');
    details.replaceChildren(h('p', { class: 'muted' }, 'Select a function first (click a frame), then Sandwich shows its callers and callees.'));
    return;
  }
  post({ type: 'sandwich', name: d.names[d.name[node]!]!, file: d.files[d.file[node]!]! });
}

function setTransform(next: FlameTransform): void {
  state.transform = next;
  onlyMyCode.checked = next.onlyMyCode;
  renderChips();
  post({ type: 'transform', transform: next });
}

// ---- search ---------------------------------------------------------------------------------------------
function applySearch(): void {
  const d = state.data;
  if (!d) return;
  const query = state.query.trim();
  if (!query) {
    main.setMatches(undefined);
    baseSide.setMatches(undefined);
    matchShare.textContent = '';
    return;
  }
  let rx: RegExp;
  try {
    rx = new RegExp(query, 'i');
    search.classList.remove('invalid');
  } catch {
    search.classList.add('invalid');
    matchShare.textContent = 'invalid regular expression';
    return;
  }
  const names = d.names.map((n) => rx.test(n));
  const files = d.files.map((f) => f !== '' && rx.test(f));
  const n = d.total.length;
  const matches = new Uint8Array(n);
  // Match share: each sample once, so only matches outside another match's subtree add up.
  let share = 0;
  let count = 0;
  let coveredUntil = 0;
  for (let i = 1; i < n; i++) {
    if (names[d.name[i]!] || files[d.file[i]!]) {
      matches[i] = 1;
      count++;
      if (i >= coveredUntil) {
        share += d.total[i]!;
        coveredUntil = d.subtreeEnd[i]!;
      }
    }
  }
  main.setMatches(matches);
  baseSide.setMatches(matches);
  const total = d.total[0]!;
  matchShare.textContent = count ? `${count} frames match · ${formatPercent((share / Math.max(1e-12, total)) * 100)} of ${state.view?.sampleType ?? 'total'}` : 'no match';
}

search.addEventListener('input', () => {
  state.query = search.value;
  applySearch();
});
search.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') main.focusCanvas();
});

onlyMyCode.addEventListener('change', () => setTransform({ ...state.transform, onlyMyCode: onlyMyCode.checked }));
sampleType.addEventListener('change', () => setTransform({ ...state.transform, sampleType: sampleType.value }));
diffColouring.addEventListener('change', () => {
  state.diffColouring = diffColouring.value as DiffColouring;
  main.setDiffColouring(state.view?.diff ? state.diffColouring : undefined);
  baseSide.setDiffColouring(state.view?.diff ? state.diffColouring : undefined);
  renderLegend();
});
diffLayout.addEventListener('change', () => {
  state.diffLayout = diffLayout.value as State['diffLayout'];
  layoutGraphArea();
});

// ---- keyboard -------------------------------------------------------------------------------------------
function onKey(e: KeyboardEvent, r: FlameRenderer, owner: () => FlameData | undefined): void {
  const d = owner();
  if (!d) return;
  let node = r.selected < 0 ? r.zoomed : r.selected;
  const parentOf = (i: number) => {
    for (let p = i - 1; p >= 0; p--) if (d.depth[p] === d.depth[i]! - 1 && d.subtreeEnd[p]! > i) return p;
    return -1;
  };
  const up = state.orientation === 'icicle' ? 'ArrowUp' : 'ArrowDown';
  const down = state.orientation === 'icicle' ? 'ArrowDown' : 'ArrowUp';
  switch (e.key) {
    case up:
      node = Math.max(0, parentOf(node));
      break;
    case down:
      if (node + 1 < d.subtreeEnd[node]!) node = node + 1; // the heaviest child comes first
      break;
    case 'ArrowRight':
      if (d.subtreeEnd[node]! < d.total.length && d.depth[d.subtreeEnd[node]!] === d.depth[node]) node = d.subtreeEnd[node]!;
      break;
    case 'ArrowLeft': {
      const p = parentOf(node);
      if (p >= 0) for (let c = p + 1, prev = -1; c < d.subtreeEnd[p]!; prev = c, c = d.subtreeEnd[c]!) if (c === node && prev >= 0) node = prev;
      break;
    }
    case 'Enter':
      if (r === main || r === baseSide) activate(node);
      else r.zoomTo(node);
      e.preventDefault();
      return;
    case 'Escape':
      (r === main ? zoom : (n: number) => r.zoomTo(n))(Math.max(0, parentOf(r.zoomed)));
      e.preventDefault();
      return;
    case 'Home':
      (r === main ? zoom : (n: number) => r.zoomTo(n))(0);
      e.preventDefault();
      return;
    case 'o':
      openSource(d, node);
      return;
    case 's':
      if (r === main) openSandwich(node);
      return;
    case '+':
    case '=':
      r.zoomAround(r.element.clientWidth / 2, 0.7);
      return;
    case '-':
      r.zoomAround(r.element.clientWidth / 2, 1 / 0.7);
      return;
    default:
      return;
  }
  e.preventDefault();
  r.select(node);
  if (r === main) renderDetails(node);
  announce(d, node);
}

window.addEventListener('keydown', (e) => {
  if (e.key === '/' && document.activeElement !== search) {
    e.preventDefault();
    search.focus();
  }
});

function announce(d: FlameData, node: number): void {
  const label = `${d.names[d.name[node]!]}: total ${formatProfileValue(d.total[node]!, state.view?.unit ?? '')}, self ${formatProfileValue(d.self[node]!, state.view?.unit ?? '')}`;
  matchShare.setAttribute('aria-label', label);
}

// ---- text panels ----------------------------------------------------------------------------------------
function pct(v: number, total: number): string {
  return formatPercent((v / Math.max(1e-12, Math.abs(total))) * 100);
}

function showTooltip(d: FlameData | undefined, node: number, x: number, y: number): void {
  if (!d || node < 0 || !state.view) {
    tooltip.hidden = true;
    return;
  }
  const unit = state.view.unit;
  const total = d.total[0]!;
  const v = (n: number) => formatProfileValue(n, unit);
  const file = d.files[d.file[node]!] ?? '';
  const rows: [string, string][] = [];
  if (isFolded(d.kind[node]!)) rows.push(['Folded', `${d.folded[node]} frames too small to draw separately — click to bring them back`]);
  rows.push(['Total', `${v(d.total[node]!)} (${pct(d.total[node]!, total)})`], ['Self', `${v(d.self[node]!)} (${pct(d.self[node]!, total)})`], ['Samples', Math.round(d.samples[node]!).toLocaleString('en-US')]);
  if (d.base) {
    const was = d.base.total[node]!;
    rows.push(['Base total', `${v(was)} (${pct(was, d.base.rootTotal)})`], ['Change', `${d.total[node]! - was >= 0 ? '+' : '−'}${v(Math.abs(d.total[node]! - was))}`]);
  }
  tooltip.replaceChildren(
    h('div', { class: 'tooltip-name' }, d.names[d.name[node]!]),
    file ? h('div', { class: 'tooltip-file' }, `${file}${d.line[node] ? `:${d.line[node]}` : ''}`) : '',
    h('dl', { class: 'kv' }, ...rows.flatMap(([k, val]) => [h('dt', {}, k), h('dd', {}, val)])),
    h('div', { class: 'muted' }, isCollapsed(d.kind[node]!) ? 'Collapsed by “Only my code”' : 'Click: zoom · Double-click: open source'),
  );
  tooltip.hidden = false;
  const box = tooltip.getBoundingClientRect();
  tooltip.style.left = `${Math.min(window.innerWidth - box.width - 8, x + 14)}px`;
  tooltip.style.top = `${Math.min(window.innerHeight - box.height - 8, y + 14)}px`;
}

function renderBreadcrumbs(): void {
  const d = state.data;
  breadcrumbs.replaceChildren();
  if (!d) return;
  const path: number[] = [];
  for (let i = main.zoomed; i >= 0; ) {
    path.unshift(i);
    let p = i - 1;
    while (p >= 0 && !(d.depth[p] === d.depth[i]! - 1 && d.subtreeEnd[p]! > i)) p--;
    i = p;
  }
  path.forEach((node, k) => {
    const crumb = h('button', { class: k === path.length - 1 ? 'crumb current' : 'crumb', title: 'Zoom to this frame' }, k === 0 ? 'all' : d.names[d.name[node]!]!);
    crumb.addEventListener('click', () => zoom(node));
    if (k) breadcrumbs.append(h('span', { class: 'sep' }, '›'));
    breadcrumbs.append(crumb);
  });
  resetButton.disabled = main.zoomed === 0;
}

function renderDetails(node: number): void {
  const d = state.data;
  if (!d || !state.view || node < 0) {
    details.replaceChildren(h('h2', {}, icon('info'), 'Selection'), h('p', { class: 'muted' }, 'Click a frame to zoom to it and see it here. Keys: arrows move, Enter zooms, Esc zooms out, / searches, O opens the source, S shows the sandwich.'));
    return;
  }
  const name = d.names[d.name[node]!]!;
  const file = d.files[d.file[node]!] ?? '';
  const unit = state.view.unit;
  const total = d.total[0]!;
  const v = (n: number) => formatProfileValue(n, unit);
  const actions = h('div', { class: 'toolbar' });
  if (file) actions.append(button('Open source', 'go-to-file', 'Open the file at this line (O)', () => openSource(d, node)));
  if (node > 0 && !isFolded(d.kind[node]!) && !isCollapsed(d.kind[node]!)) {
    actions.append(
      button('Sandwich', 'split-vertical', 'Callers and callees of this function (S)', () => openSandwich(node)),
      button('Focus', 'target', 'Only stacks through this function, rooted at it', () => setTransform({ ...state.transform, focus: functionKey(name, file) })),
      button('Hide frame', 'eye-closed', 'Remove this function from every stack (its callees join its caller)', () =>
        setTransform({ ...state.transform, hidden: [...state.transform.hidden, functionKey(name, file)] }),
      ),
    );
  }
  details.replaceChildren(
    h('h2', {}, icon('info'), 'Selection'),
    h('div', { class: 'details-name' }, name),
    file ? h('div', { class: 'muted mono' }, `${file}${d.line[node] ? `:${d.line[node]}` : ''}`) : '',
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'Total'),
      h('dd', {}, `${v(d.total[node]!)} (${pct(d.total[node]!, total)})`),
      h('dt', {}, 'Self'),
      h('dd', {}, `${v(d.self[node]!)} (${pct(d.self[node]!, total)})`),
      h('dt', {}, 'Samples'),
      h('dd', {}, Math.round(d.samples[node]!).toLocaleString('en-US')),
      ...(d.base ? [h('dt', {}, 'Base total'), h('dd', {}, `${v(d.base.total[node]!)} (${pct(d.base.total[node]!, d.base.rootTotal)})`)] : []),
    ),
    actions,
  );
}

function renderChips(): void {
  chips.replaceChildren();
  const t = state.transform;
  if (t.focus) {
    const [name] = t.focus.split('\u0000');
    const chip = button(`Focused on ${name}`, 'close', 'Show every stack again', () => setTransform({ ...state.transform, focus: undefined }));
    chip.classList.add('chip');
    chips.append(chip);
  }
  for (const key of t.hidden) {
    const [name] = key.split('\u0000');
    const chip = button(`Hidden: ${name}`, 'eye', 'Show this frame again', () => setTransform({ ...state.transform, hidden: state.transform.hidden.filter((k) => k !== key) }));
    chip.classList.add('chip');
    chips.append(chip);
  }
}

function renderLegend(): void {
  if (!state.view?.diff) return;
  foot.textContent =
    state.diffColouring === 'absolute'
      ? 'Diff: red grew, green shrank, by the change in the frame’s own value against the base total — a frame that did not change stays grey even when others got faster.'
      : 'Diff: red grew, green shrank, by the change in the frame’s share of its side’s total — after an optimisation elsewhere, unchanged frames turn red (their share grew).';
}

function renderTop(): void {
  const view = state.view;
  topTable.replaceChildren();
  if (!view) return;
  const v = (n: number) => formatProfileValue(n, view.unit);
  const head = h('tr', {}, h('th', {}, 'Self'), h('th', {}, 'Self %'), h('th', {}, 'Total'), h('th', {}, 'Total %'), ...(view.diff ? [h('th', {}, 'Δ total')] : []), h('th', {}, 'Function'));
  topTable.append(h('thead', {}, head));
  const body = h('tbody', {});
  for (const row of state.top.slice(0, 100)) {
    const tr = h(
      'tr',
      { title: `${row.file}${row.line ? `:${row.line}` : ''} — click to search, double-click for the sandwich` },
      h('td', {}, v(row.self)),
      h('td', {}, pct(row.self, view.total)),
      h('td', {}, v(row.total)),
      h('td', {}, pct(row.total, view.total)),
      ...(view.diff ? [h('td', {}, `${row.total - (row.baseTotal ?? 0) >= 0 ? '+' : '−'}${v(Math.abs(row.total - (row.baseTotal ?? 0)))}`)] : []),
      h('td', { class: 'fn' }, row.name),
    );
    tr.tabIndex = 0;
    tr.addEventListener('click', () => {
      search.value = `^${row.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
      state.query = search.value;
      applySearch();
    });
    tr.addEventListener('dblclick', () => post({ type: 'sandwich', name: row.name, file: row.file }));
    body.append(tr);
  }
  topTable.append(body);
}

function renderHeader(): void {
  const view = state.view!;
  title.replaceChildren(icon('flame'), view.title);
  const v = formatProfileValue(view.total, view.unit);
  subtitle.textContent = `${view.source} · ${view.sampleType} (${view.unit}) · total ${v}${view.profiles > 1 ? ` · ${view.profiles} profiles merged` : ''}`;
  problems.replaceChildren(...view.problems.map((p) => h('div', { class: 'error-text' }, icon('warning'), ` ${p}`)));
  sampleType.replaceChildren(
    ...view.sampleTypes.map((t) => {
      const o = h('option', {}, t);
      o.value = t;
      o.selected = t === view.sampleType;
      return o;
    }),
  );
  sampleType.hidden = view.sampleTypes.length < 2;
  diffControls.hidden = !view.diff;
  selectionBar.hidden = !view.selection;
  if (view.selection) {
    rangeSelect.value = String(view.selection.rangeMs);
    if (document.activeElement !== whereInput) whereInput.value = view.selection.where;
  }
  foot.textContent = view.foldedNodes
    ? `${view.fullNodes.toLocaleString('en-US')} frames; ${view.foldedNodes.toLocaleString('en-US')} too small to draw are folded into “small frames” boxes — click one (or zoom in) to bring them back.`
    : `${view.fullNodes.toLocaleString('en-US')} frames.`;
  renderLegend();
}

// ---- messages -------------------------------------------------------------------------------------------
messenger.onMessage((message) => {
  switch (message.type) {
    case 'model': {
      const expanded = state.view && message.view.expandedId !== 0 && message.view.transform === state.view.transform;
      state.view = message.view;
      state.data = message.data;
      state.top = message.top;
      state.transform = message.view.transform;
      onlyMyCode.checked = state.transform.onlyMyCode;
      state.modelReceivedAt = performance.now();
      renderHeader();
      layoutGraphArea();
      main.setDiffColouring(message.view.diff ? state.diffColouring : undefined, false);
      baseSide.setDiffColouring(message.view.diff ? state.diffColouring : undefined, false);
      main.setData(message.data);
      if (message.view.diff) baseSide.setData(message.data);
      if (expanded) {
        // Back from an expand: zoom to the node that was unfolded.
        const at = Array.from(message.data.id).findIndex((id, i) => id === message.view.expandedId && !isFolded(message.data.kind[i]!));
        if (at >= 0) zoom(at);
      }
      applySearch();
      renderBreadcrumbs();
      // The graph first; the text panels right after its first frame is on screen.
      requestAnimationFrame(() =>
        setTimeout(() => {
          if (!state.firstFrameReported) {
            state.firstFrameReported = true;
            post({ type: 'timing', name: 'firstFrame', ms: performance.now() - state.modelReceivedAt });
          }
          renderChips();
          renderDetails(-1);
          renderTop();
        }, 0),
      );
      break;
    }
    case 'sandwich':
      state.sandwich = message;
      delete graphArea.dataset.layout;
      callers.setData(message.callers);
      callees.setData(message.callees);
      callers.setOrientation('flame');
      callees.setOrientation('icicle');
      setMode('sandwich');
      break;
    case 'search':
      search.value = message.query;
      state.query = message.query;
      applySearch();
      break;
    case 'error':
      problems.replaceChildren(h('div', { class: 'error-text' }, icon('error'), ` ${message.message}`));
      break;
  }
});

new MutationObserver(() => {
  for (const r of [main, baseSide, callers, callees]) r.themeChanged();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

setOrientation('icicle');
setMode('graph');
renderDetails(-1);
post({ type: 'ready' });
