/**
 * Fonts for rasterising charts with resvg.
 *
 * resvg has no built-in font: text renders only with a font file it can load. We let it load the
 * system fonts and point its generic families at the first well-known sans-serif font that exists
 * (DejaVu Sans on Debian/Ubuntu: package `fonts-dejavu-core`; Liberation; Arial/Helvetica on
 * macOS and Windows). With no font at all the PNG still renders, without text.
 */
import { existsSync } from 'node:fs';

/** Font stack written into the SVG (browsers use it too). */
export const FONT_STACK = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

const CANDIDATES: readonly { family: string; files: readonly string[] }[] = [
  {
    family: 'DejaVu Sans',
    files: [
      '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
      '/usr/share/fonts/dejavu/DejaVuSans.ttf',
      '/usr/share/fonts/TTF/DejaVuSans.ttf',
      '/usr/local/share/fonts/DejaVuSans.ttf',
    ],
  },
  {
    family: 'Liberation Sans',
    files: [
      '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
      '/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf',
      '/usr/share/fonts/liberation/LiberationSans-Regular.ttf',
    ],
  },
  {
    family: 'Arial',
    files: [
      '/System/Library/Fonts/Supplemental/Arial.ttf',
      '/Library/Fonts/Arial.ttf',
      'C:\\Windows\\Fonts\\arial.ttf',
    ],
  },
  { family: 'Helvetica', files: ['/System/Library/Fonts/Helvetica.ttc'] },
];

export interface ResvgFontOptions {
  loadSystemFonts: boolean;
  fontFiles: string[];
  defaultFontFamily?: string;
  sansSerifFamily?: string;
}

/**
 * resvg `font` options: system fonts plus, when one of the well-known sans-serif fonts exists,
 * that family as the default and generic sans-serif family. `found` is null when none of the
 * well-known fonts exists (text may then be missing from PNGs: install `fonts-dejavu-core`).
 */
export function resvgFontOptions(): { font: ResvgFontOptions; found: string | null } {
  for (const c of CANDIDATES) {
    const file = c.files.find((f) => existsSync(f));
    if (file) {
      return {
        font: {
          loadSystemFonts: true,
          fontFiles: [file],
          defaultFontFamily: c.family,
          sansSerifFamily: c.family,
        },
        found: c.family,
      };
    }
  }
  return { font: { loadSystemFonts: true, fontFiles: [] }, found: null };
}
