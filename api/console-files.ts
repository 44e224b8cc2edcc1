import fs from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { NotFoundError } from '../lib/errors';
import { publicFiles, servesPath } from './route-table';

/** Where the console lives: `/` sends the browser there; its pages are client-side routes under /console/. */
export const CONSOLE_BASE = '/console/';
const CONSOLE_PATHS = ['/', '/console', '/console/*'];

/**
 * The console's page may run only its own bundle and talk only to this origin: no inline script or style, no other
 * host, no framing (clickjacking), no plug-ins, no <base> or form target elsewhere. The API key it holds can then leak
 * only through the console's own code.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the built console (`vite build` output in `dir`): hashed assets under /console/assets/ cached for good,
 * index.html for every other path under /console/ (the client-side routes), and a redirect from `/`. GET and HEAD
 * only; anything else falls through to the API's routes and its JSON 404. The files are public (the console's code,
 * no data): every request for data goes to the API with the user's key.
 */
export function consoleFiles(dir: string): RequestHandler {
  const handler: RequestHandler = (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !servesPath(CONSOLE_PATHS, req.path)) return next();
    res.set({ 'Content-Security-Policy': CONSOLE_CSP, 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' });
    if (req.path === '/') return res.redirect(302, CONSOLE_BASE);
    const file = req.path.slice(CONSOLE_BASE.length);
    const isAsset = file.startsWith('assets/') || file === 'favicon.svg';
    if (isAsset) {
      // Content-hashed names: a changed file gets a new name, so browsers may keep these forever.
      if (file.startsWith('assets/')) res.set('Cache-Control', 'public, max-age=31536000, immutable');
      return res.sendFile(file, { root: dir, dotfiles: 'deny' }, (err?: Error & { status?: number }) => {
        // A missing file, or a path the file server refuses (`..`, dot files), is the API's plain JSON 404.
        if (err) next(err.status !== undefined && err.status < 500 ? undefined : err);
      });
    }
    if (!fs.existsSync(path.join(dir, 'index.html'))) {
      throw new NotFoundError('The console is not built: run "npm run setup" (it runs vite build into console/dist)');
    }
    res.sendFile('index.html', { root: dir });
  };
  return publicFiles(CONSOLE_PATHS, handler);
}
