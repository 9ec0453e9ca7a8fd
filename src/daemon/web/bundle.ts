/**
 * The browser page's static files: edge/web/index.html, style.css and worklet.js as they are, and
 * edge/web/client.ts bundled (with mediasoup-client) by esbuild in memory, once per server. Nothing
 * is fetched from a CDN or the network.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineUnavailableError } from '../../core/errors.ts';

/** edge/web in this checkout. */
export const WEB_ASSETS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'edge', 'web');

export interface StaticAsset {
  contentType: string;
  body: Buffer;
}

const STATIC_FILES: Record<string, { file: string; contentType: string }> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/style.css': { file: 'style.css', contentType: 'text/css; charset=utf-8' },
  '/worklet.js': { file: 'worklet.js', contentType: 'text/javascript; charset=utf-8' },
};

/** Bundles edge/web/client.ts for the browser (ES2020 module). Throws `EngineUnavailableError` without esbuild. */
export async function bundleWebClient(assetsDir = WEB_ASSETS_DIR): Promise<Buffer> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (err) {
    throw new EngineUnavailableError('esbuild', 'esbuild is not installed', 'run npm ci', { cause: err });
  }
  const result = await esbuild.build({
    entryPoints: [join(assetsDir, 'client.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    write: false,
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (!out) throw new EngineUnavailableError('esbuild', 'esbuild produced no output for edge/web/client.ts', 'check edge/web/client.ts');
  return Buffer.from(out.contents);
}

/** Serves the page's files; the bundle is built on first use and kept. */
export class WebAssets {
  private bundle: Promise<Buffer> | undefined;
  private readonly files = new Map<string, Promise<Buffer>>();
  constructor(private readonly assetsDir = WEB_ASSETS_DIR) {}

  /** True when `pathname` is one of the page's files. */
  has(pathname: string): boolean {
    return pathname === '/app.js' || pathname in STATIC_FILES;
  }

  async get(pathname: string): Promise<StaticAsset> {
    if (pathname === '/app.js') {
      this.bundle ??= bundleWebClient(this.assetsDir);
      return { contentType: 'text/javascript; charset=utf-8', body: await this.bundle };
    }
    const entry = STATIC_FILES[pathname];
    if (!entry) throw new RangeError(`not a web asset: ${pathname}`);
    let p = this.files.get(entry.file);
    if (!p) {
      p = readFile(join(this.assetsDir, entry.file));
      this.files.set(entry.file, p);
    }
    return { contentType: entry.contentType, body: await p };
  }
}
