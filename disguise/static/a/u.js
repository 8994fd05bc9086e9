// el makes an element with attributes and children (text or nodes): the
// page builds its DOM node by node, never from an HTML string.
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids) {
    if (k !== null && k !== undefined && k !== false) e.append(k);
  }
  return e;
}
