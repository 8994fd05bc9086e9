// icons.js draws the few symbols the dashboard needs as inline SVG, so no
// font or file is fetched for them. Every icon is decorative: the words
// next to it carry the meaning for screen readers and in high contrast.

const NS = 'http://www.w3.org/2000/svg';

const paths = {
  warning: 'M12 2 1 21h22L12 2zm-1 7h2v6h-2V9zm0 8h2v2h-2v-2z',
  bell: 'M12 22a2.2 2.2 0 0 0 2.2-2.2H9.8A2.2 2.2 0 0 0 12 22zm6.5-6.2V11a6.5 6.5 0 0 0-5.2-6.4V3.5a1.3 1.3 0 0 0-2.6 0v1.1A6.5 6.5 0 0 0 5.5 11v4.8L3.3 18v1.1h17.4V18l-2.2-2.2z',
  clock: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2a8 8 0 1 1 0 16 8 8 0 0 1 0-16zm-1 3v6.4l5.2 3.1 1-1.7-4.2-2.5V7h-2z',
  message: 'M2 4h20v16H2V4zm2 2v.6l8 5 8-5V6H4zm16 2.9-8 5-8-5V18h16V8.9z',
  check: 'M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4L9 16.2z',
  block: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zM4 12a8 8 0 0 1 12.9-6.3L5.7 16.9A8 8 0 0 1 4 12zm8 8a8 8 0 0 1-4.9-1.7L18.3 7.1A8 8 0 0 1 12 20z',
  chat: 'M3 3h18v14H7.8L3 21.5V3zm2 2v11.6L7 15h12V5H5z',
  lock: 'M6 10V8a6 6 0 0 1 12 0v2h1.5v12h-15V10H6zm2 0h8V8a4 4 0 0 0-8 0v2z',
  pin: 'M12 2a7 7 0 0 0-7 7c0 5.2 7 13 7 13s7-7.8 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z',
};

// svgIcon returns the named icon, sized to the text around it.
export function svgIcon(name) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '1.3em');
  svg.setAttribute('height', '1.3em');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  const p = document.createElementNS(NS, 'path');
  p.setAttribute('d', paths[name] || paths.warning);
  p.setAttribute('fill', 'currentColor');
  p.setAttribute('fill-rule', 'evenodd');
  svg.appendChild(p);
  return svg;
}
