/**
 * The page's elements, and the only ways webhook text reaches the DOM: textContent and attribute setters,
 * never HTML. The sink's Content-Security-Policy forbids inline code and style as well.
 */

function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`the page has no #${id}`);
  return node;
}

export const ui = {
  connection: byId('connection', HTMLElement),
  connectionText: byId('connection-text', HTMLElement),
  storeCount: byId('store-count', HTMLElement),
  storeCountLabel: byId('store-count-label', HTMLElement),
  storeMeter: byId('store-meter', HTMLMeterElement),
  storeFill: byId('store-fill', HTMLElement),
  form: byId('filters', HTMLFormElement),
  event: byId('f-event', HTMLSelectElement),
  status: byId('f-status', HTMLInputElement),
  mode: byId('f-mode', HTMLSelectElement),
  q: byId('f-q', HTMLInputElement),
  list: byId('list', HTMLOListElement),
  empty: byId('empty', HTMLElement),
  shown: byId('shown', HTMLElement),
  older: byId('older', HTMLButtonElement),
  curlHint: byId('curl-hint', HTMLElement),
  notifyToggle: byId('notify-toggle', HTMLButtonElement),
  notifyState: byId('notify-state', HTMLElement),
  notifyForm: byId('notify-filter', HTMLFormElement),
  notifyEvent: byId('n-event', HTMLSelectElement),
  notifyStatuses: byId('n-statuses', HTMLInputElement),
  notifyLive: byId('n-live', HTMLInputElement),
};

type Tag = keyof HTMLElementTagNameMap;

export function el<K extends Tag>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Splits pretty JSON into highlighted spans: text nodes only, so nothing in it is ever parsed as HTML. */
export function highlightJson(text: string, into: HTMLElement): void {
  const token = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  for (let m = token.exec(text); m !== null; m = token.exec(text)) {
    if (m.index > last) into.append(text.slice(last, m.index));
    const className = m[1] ? (m[2] ? 'j-key' : 'j-str') : m[3] ? 'j-lit' : 'j-num';
    into.append(el('span', className, m[1] ?? m[0]));
    if (m[2]) into.append(m[2]);
    last = token.lastIndex;
  }
  if (last < text.length) into.append(text.slice(last));
}

/** Adds an event name seen in a record to the event filter, as an option made of text. */
export function ensureEventOption(select: HTMLSelectElement, event: unknown): void {
  if (typeof event !== 'string' || event === '') return;
  if ([...select.options].some((o) => o.value === event)) return;
  const option = el('option', undefined, event);
  option.value = event;
  select.append(option);
}
