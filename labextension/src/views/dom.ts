/**
 * A small element builder for the views: plain DOM, no framework. Text goes
 * in through `textContent` only, so kernel-provided strings are never parsed
 * as HTML.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

export type Child = Node | string | number | null | undefined | false;

export type Attributes = Record<
  string,
  string | number | boolean | null | undefined
>;

function apply(
  element: Element,
  attributes: Attributes,
  children: Child[]
): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    element.appendChild(
      child instanceof Node ? child : document.createTextNode(String(child))
    );
  }
}

/** An HTML element: `h('li', { class: 'fc-round', 'data-round': 1 }, 'Round 1')`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  apply(element, attributes, children);
  return element;
}

/** An SVG element, for the inline charts. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  apply(element, attributes, children);
  return element;
}
