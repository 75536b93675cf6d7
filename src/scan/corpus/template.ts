// Builds a corpus document from a template literal whose interpolations are
// either plain text or labelled secrets, recording each secret's exact span
// (UTF-16 offsets and 1-based lines) as the text is assembled.

export const CHANNELS = ['prompt', 'tool-result', 'negative'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface Label {
  type: string;
  start: number;
  end: number;
  line: number;
  endLine: number;
}

export interface CorpusDoc {
  /** Path under the corpus folder, e.g. "prompts/03-kubeconfig.yaml". */
  file: string;
  channel: Channel;
  text: string;
  labels: Label[];
}

export interface SecretPart {
  secret: true;
  type: string;
  value: string;
}

/** A labelled secret inside a template. */
export const s = (type: string, value: string): SecretPart => ({ secret: true, type, value });

export interface Built {
  text: string;
  labels: Label[];
}

/** A template with labelled secrets: t`token: ${s('github-token', tok)}`. Nested Built values keep their labels. */
export function t(strings: TemplateStringsArray, ...values: (string | number | SecretPart | Built)[]): Built {
  let text = '';
  const labels: Label[] = [];
  strings.forEach((chunk, i) => {
    text += chunk;
    if (i >= values.length) return;
    const v = values[i]!;
    if (typeof v === 'object' && 'secret' in v) {
      labels.push({ type: v.type, start: text.length, end: text.length + v.value.length, line: 0, endLine: 0 });
      text += v.value;
    } else if (typeof v === 'object') {
      for (const l of v.labels) labels.push({ ...l, start: l.start + text.length, end: l.end + text.length });
      text += v.text;
    } else {
      text += String(v);
    }
  });
  return { text, labels };
}

/** Joins built parts with a separator, keeping labels. */
export function join(parts: readonly Built[], sep = '\n'): Built {
  let text = '';
  const labels: Label[] = [];
  parts.forEach((p, i) => {
    if (i > 0) text += sep;
    for (const l of p.labels) labels.push({ ...l, start: l.start + text.length, end: l.end + text.length });
    text += p.text;
  });
  return { text, labels };
}

/** Fills in line numbers once the document's text is final. */
export function finish(file: string, channel: Channel, built: Built): CorpusDoc {
  const lineAt = (offset: number) => {
    let line = 1;
    for (let i = built.text.indexOf('\n'); i !== -1 && i < offset; i = built.text.indexOf('\n', i + 1)) line++;
    return line;
  };
  const labels = built.labels.map((l) => ({ ...l, line: lineAt(l.start), endLine: lineAt(Math.max(l.start, l.end - 1)) }));
  return { file, channel, text: built.text, labels };
}
