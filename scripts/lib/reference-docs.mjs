// Renders docs/reference/commands.md and settings.md from package.json, so the reference cannot drift from
// what the extension contributes (test/unit/contributions.test.ts fails when the files are stale).

const HEADER = '<!-- Generated from package.json by `npm run docs`. Do not edit by hand. -->\n\n';

function cell(text) {
  return String(text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderCommands(pkg) {
  const { commands, keybindings = [], menus = {} } = pkg.contributes;
  const inMenus = (id) =>
    Object.entries(menus)
      .filter(([, entries]) => entries.some((e) => e.command === id))
      .map(([menu]) => menu);
  const lines = [
    '# Commands',
    '',
    HEADER.trim(),
    '',
    'Every command is in the Command Palette (F1) under the category **StreamGate**.',
    '',
    '| Command | Title | Enabled when | Also in |',
    '|---|---|---|---|',
    ...commands.map((c) => {
      const keys = keybindings.filter((k) => k.command === c.command).map((k) => `\`${k.key}\``);
      const where = [...inMenus(c.command).map((m) => `\`${m}\``), ...keys].join(', ');
      return `| \`${c.command}\` | ${cell(`${c.category}: ${c.title}`)} | ${c.enablement ? `\`${cell(c.enablement)}\`` : 'always'} | ${where || '—'} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

export function renderSettings(pkg) {
  const properties = pkg.contributes.configuration.properties;
  const entries = Object.entries(properties).sort(([, a], [, b]) => (a.order ?? 0) - (b.order ?? 0));
  const lines = [
    '# Settings',
    '',
    HEADER.trim(),
    '',
    'All settings live under `streamgate.*` (File → Preferences → Settings, search "StreamGate").',
    '',
    '| Setting | Type | Default | Description |',
    '|---|---|---|---|',
    ...entries.map(([key, p]) => {
      const type = p.enum ? p.enum.map((v) => `\`${v}\``).join(' \\| ') : p.type;
      const description = p.markdownDescription ?? p.description ?? '';
      const enumDocs = p.enumDescriptions ? ' ' + p.enum.map((v, i) => `\`${v}\`: ${p.enumDescriptions[i]}`).join(' ') : '';
      return `| \`${key}\` | ${cell(type)} | \`${cell(JSON.stringify(p.default))}\` | ${cell(description + enumDocs)} |`;
    }),
    '',
  ];
  return lines.join('\n');
}
