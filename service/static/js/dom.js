// Small DOM helpers. Text always goes in through textContent or text nodes: player names
// are typed by other people and must never become markup.

export function byId(id) {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`#${id} is missing from index.html`);
  return node;
}

/** h('button', {class: 'x', 'aria-label': 'y', text: 'z'}, child, ...) */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

// 24x24 stroke icons, drawn for this app
const ICONS = {
  volume: ['M11 5 6 9H3v6h3l5 4z', 'M15.5 8.5a5 5 0 0 1 0 7', 'M18.5 5.5a9.5 9.5 0 0 1 0 13'],
  muted: ['M11 5 6 9H3v6h3l5 4z', 'M22 9l-6 6', 'M16 9l6 6'],
  copy: ['M9 9h11v11H9z', 'M5 15H4V4h11v1'],
  plus: ['M12 5v14', 'M5 12h14'],
  minus: ['M5 12h14'],
  play: ['M7 4.5v15L19.5 12z'],
  pause: ['M8 5v14', 'M16 5v14'],
  pass: ['M5 5l9 7-9 7z', 'M19 5v14'],
  reset: ['M4 12a8 8 0 1 0 2.4-5.7L4 8.6', 'M4 3.5v5.1h5.1'],
  back: ['M19 12H5', 'M11 18l-6-6 6-6'],
  sliders: ['M4 21v-7', 'M4 10V3', 'M12 21v-9', 'M12 8V3', 'M20 21v-5', 'M20 12V3', 'M1 14h6', 'M9 8h6', 'M17 16h6'],
  flag: ['M5 21V4', 'M5 4h11l-2 4 2 4H5'],
  out: ['M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z', 'M15 9l-6 6', 'M9 9l6 6'],
  clock: ['M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z', 'M12 7v5l3.5 2'],
  heart: ['M12 20s-7.5-4.6-7.5-10A4.3 4.3 0 0 1 12 7.3 4.3 4.3 0 0 1 19.5 10c0 5.4-7.5 10-7.5 10z'],
  glass: ['M5 4h14l-7 8z', 'M12 12v8', 'M8 20h8'],
  drop: ['M12 3s6 6.6 6 11a6 6 0 0 1-12 0c0-4.4 6-11 6-11z'],
  bolt: ['M13 2 4 14h7l-1 8 9-12h-7z'],
  star: ['M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1-5.4-2.9-5.4 2.9 1-6.1L3.2 9.5l6.1-.9z'],
  shield: ['M12 3l8 3v6c0 4.5-3.4 8-8 9-4.6-1-8-4.5-8-9V6z'],
  history: ['M4 12a8 8 0 1 0 2.4-5.7L4 8.6', 'M4 3.5v5.1h5.1', 'M12 8v4l3 2'],
  hash: ['M4 9h16', 'M4 15h16', 'M10 3 8 21', 'M16 3l-2 18'],
  trophy: ['M8 21h8', 'M12 16v5', 'M7 4h10v5a5 5 0 0 1-10 0z', 'M17 6h3v1a3 3 0 0 1-3 3', 'M7 6H4v1a3 3 0 0 0 3 3'],
  more: ['M5 10.4a1.6 1.6 0 1 0 0 3.2 1.6 1.6 0 0 0 0-3.2z', 'M12 10.4a1.6 1.6 0 1 0 0 3.2 1.6 1.6 0 0 0 0-3.2z', 'M19 10.4a1.6 1.6 0 1 0 0 3.2 1.6 1.6 0 0 0 0-3.2z'],
  link: ['M10 14a4.5 4.5 0 0 0 6.4 0l3-3a4.5 4.5 0 0 0-6.4-6.4l-1.2 1.2', 'M14 10a4.5 4.5 0 0 0-6.4 0l-3 3a4.5 4.5 0 0 0 6.4 6.4l1.2-1.2'],
};

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A decorative icon: hidden from assistive technology, its button carries the label. */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `icon icon-${name}`);
  for (const d of ICONS[name] ?? []) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

/** Fills every `[data-icon]` placeholder of the static page. */
export function hydrateIcons(root = document) {
  for (const slot of root.querySelectorAll('[data-icon]')) {
    slot.replaceWith(icon(slot.getAttribute('data-icon')));
  }
}

/** Shows `message` in an inline error element (or clears it with ''). */
export function showError(node, message) {
  if (!node) return;
  node.textContent = message;
  node.hidden = message === '';
}
