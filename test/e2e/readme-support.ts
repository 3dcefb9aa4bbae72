/**
 * Reading README.md and docs/*.md the way a user does: their fenced blocks, the commands in their shell
 * blocks, the variables in their .env blocks, their tables, headings and links. Pure functions over the text.
 */

export interface Block {
  lang: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** Every fenced block, indented ones (inside list items) included. */
export function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```([\w-]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    const pad = ' '.repeat(indent);
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) {
      const line = lines[j]!;
      body.push(line.startsWith(pad) ? line.slice(indent) : line.trimStart());
    }
    if (j === lines.length) throw new Error(`the block opened on line ${i + 1} is never closed`);
    blocks.push({ lang: open[2]!, body: body.join('\n'), line: i + 1 });
    i = j;
  }
  return blocks;
}

/** The command lines of the sh/bash blocks, in order, comments and blank lines left out. */
export function shellCommands(markdown: string): string[] {
  return fencedBlocks(markdown)
    .filter((b) => b.lang === 'sh' || b.lang === 'bash')
    .flatMap((b) => b.body.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** KEY=VALUE pairs of a dotenv block. */
export function dotenvPairs(body: string): [string, string][] {
  return body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const eq = l.indexOf('=');
      if (eq <= 0) throw new Error(`not a KEY=VALUE line: ${l}`);
      return [l.slice(0, eq), l.slice(eq + 1)];
    });
}

/** The text of a section: from its heading to the next heading of the same or a higher level. */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const level = /^#+/.exec(heading)![0].length;
  let end = start + 1;
  while (end < lines.length) {
    const h = /^(#+)\s/.exec(lines[end]!);
    if (h && h[1]!.length <= level) break;
    end++;
  }
  return lines.slice(start + 1, end).join('\n');
}

/** The body rows of the first markdown table in `text`, as trimmed cells. */
export function tableRows(text: string): string[][] {
  const rows = text.split('\n').filter((l) => l.trim().startsWith('|'));
  return rows.slice(2).map((r) =>
    r
      .trim()
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split(' | ')
      .map((c) => c.trim()),
  );
}

/**
 * The README's commands use the default ports (9888 for the sink, 8787 for the Worker). The test starts both
 * on ephemeral ports, so before running a command it puts the ports actually bound in their place.
 */
export function onPorts(command: string, ports: { sink: number; worker: number }): string {
  return command
    .replaceAll('127.0.0.1:9888', `127.0.0.1:${ports.sink}`)
    .replaceAll('127.0.0.1:8787', `127.0.0.1:${ports.worker}`);
}

/** The lines outside fenced blocks, so a `# comment` in a shell block is not taken for a heading. */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** The `#`-headings of a page, level and text. */
export function headings(markdown: string): { level: number; text: string }[] {
  return proseLines(markdown).flatMap((line) => {
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    return h ? [{ level: h[1]!.length, text: h[2]!.trim() }] : [];
  });
}

/**
 * The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens, and a
 * repeated one numbered (`-1`, `-2`, …).
 */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const { text } of headings(markdown)) {
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    found.add(n === 0 ? base : `${base}-${n}`);
  }
  return found;
}

/** The targets of a page's relative links and images (no scheme, no `<…>` autolinks), outside code blocks. */
export function relativeLinks(markdown: string): string[] {
  const text = proseLines(markdown)
    .join('\n')
    .replace(/`[^`]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}
