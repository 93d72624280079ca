/**
 * A GOPROXY file tree (`<escaped module>/@v/list`, `<version>.info`, `.mod`, `.zip`) holding the demo catalog's
 * module versions, so real proxies (goproxy, Athens) can serve the demo's synthetic modules from an offline
 * upstream (`modcast-goproxy upstream -dir`). Each version is a minimal but valid module: the go command and the
 * proxies accept its zip (one go.mod, one Go file, under `module@version/`; no go.mod for +incompatible versions).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeModulePath, escapeVersion } from '../domain/module-path.js';

export interface TreeVersion {
  module: string;
  version: string;
  /** The version's publication time, epoch ms. */
  time: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Entry dates are fixed, so the same version always has the same zip (and hash). */
const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;

/** A zip archive of `files`, stored (no compression): what a module zip needs, in a few lines. */
export function storedZip(files: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(DOS_DATE_1980_01_01, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(f.data.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, f.data);
    centrals.push(central, name);
    offset += local.length + name.length + f.data.length;
  }
  const centralSize = centrals.reduce((s, b) => s + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** A Go package name for the module's last path element (`github.com/x/Lib3/v2` -> `lib3`). */
function packageName(module: string): string {
  const elems = module.split('/').filter((e) => !/^v\d+$/.test(e));
  const name = (elems[elems.length - 1] ?? '').replace(/\.v\d+$/, '').toLowerCase().replace(/[^a-z0-9]/g, '');
  return /^[a-z]/.test(name) ? name : `pkg${name}`;
}

/** The .mod file the version serves (for +incompatible versions the go command synthesizes the same). */
function goMod(module: string, version: string): string {
  return version.endsWith('+incompatible') ? `module ${module}\n` : `module ${module}\n\ngo 1.21\n`;
}

function moduleZip(module: string, version: string): Buffer {
  const prefix = `${module}@${version}/`;
  const pkg = packageName(module);
  const files = [{ name: `${prefix}${pkg}.go`, data: Buffer.from(`// Package ${pkg} is a module of modcast's demo catalog.\npackage ${pkg}\n`) }];
  if (!version.endsWith('+incompatible')) files.unshift({ name: `${prefix}go.mod`, data: Buffer.from(goMod(module, version)) });
  return storedZip(files);
}

/** Writes (or completes) the tree under `dir` with every version given; versions already there are kept. */
export function writeModuleTree(dir: string, versions: TreeVersion[]): { modules: number; versions: number } {
  const byModule = new Map<string, TreeVersion[]>();
  for (const v of versions) {
    const list = byModule.get(v.module) ?? [];
    list.push(v);
    byModule.set(v.module, list);
  }
  for (const [module, list] of byModule) {
    const vdir = join(dir, escapeModulePath(module), '@v');
    mkdirSync(vdir, { recursive: true });
    for (const v of list) {
      const base = join(vdir, escapeVersion(v.version));
      if (existsSync(`${base}.zip`)) continue;
      writeFileSync(`${base}.info`, JSON.stringify({ Version: v.version, Time: new Date(v.time).toISOString() }) + '\n');
      writeFileSync(`${base}.mod`, goMod(module, v.version));
      writeFileSync(`${base}.zip`, moduleZip(module, v.version));
    }
    const listFile = join(vdir, 'list');
    const known = new Set(existsSync(listFile) ? readFileSync(listFile, 'utf8').split('\n').filter((l) => l !== '') : []);
    for (const v of list) known.add(v.version);
    writeFileSync(listFile, [...known].join('\n') + '\n');
  }
  return { modules: byModule.size, versions: versions.length };
}
