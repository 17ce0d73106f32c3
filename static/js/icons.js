// An icon per category family (the first part of a category code), drawn as inline SVG: no
// icon font, no extra request, and decorative (aria-hidden): the name beside it is the label.

import { svgEl } from './dom.js';

// 24×24 outline paths.
const PATHS = {
  utilities: 'M9 2h6v3H9zM12 5v4M7 9h10l-1 4H8zM12 13v9M9 22h6',              // a streetlight
  roads: 'M6 22 10 2M18 22 14 2M12 4v3M12 10v3M12 16v3',                        // a road
  landscape: 'M12 2 5 12h4l-3 5h12l-3-5h4zM12 17v5',                            // a tree
  environment: 'M4 6h16M9 6V3h6v3M6 6l1 15h10l1-15M10 10v7M14 10v7',            // a bin
  advertising: 'M4 4h16v11H4zM9 15l-2 6M15 15l2 6M8 8h8M8 11h5',                 // a poster
  construction: 'M3 21h18M5 21V11l7-5 7 5v10M9 21v-6h6v6',                       // a site
  emergency: 'M12 3 2 20h20zM12 9v5M12 17v.5',                                   // a warning
  order: 'M5 17h14l-1.5-5h-11zM7 17v3M17 17v3M7.5 9 9 5h6l1.5 4',                 // a car
  dispute: 'M4 5h10v7H8l-4 3zM10 15h6l4 3v-9h-4',                                // two speech bubbles
  other: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.5V14M12 17v.5',
};

/** The icon of a category code, e.g. "utilities.streetlight". */
export function categoryIcon(code) {
  const family = String(code).split('.')[0];
  const svg = svgEl('svg', { viewBox: '0 0 24 24', width: '28', height: '28', 'aria-hidden': 'true', focusable: 'false', class: 'icon category-icon' });
  svg.append(svgEl('path', {
    d: PATHS[family] || PATHS.other, fill: 'none', stroke: 'currentColor',
    'stroke-width': '1.8', 'stroke-linecap': 'round', 'stroke-linejoin': 'round',
  }));
  return svg;
}
