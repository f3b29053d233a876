// Builds static/build/: one stylesheet and one script for every page, minified, under
// names that carry a hash of their content, and manifest.json, which maps the name a
// template gives url_for('static', ...) to the built file (webapp/site/static_files.py).
// Beside each file go the .br and .gz copies WhiteNoise serves to browsers that accept
// them, all before the manifest names the file; inputs.json lists the files read, so a
// development server can tell when the build is out of date. `make static` runs this.
//
//   node frontend/build.mjs
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

import * as esbuild from "esbuild";
import * as sass from "sass";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, "static", "build");
const PICO_SCSS = path.join(ROOT, "node_modules", "@picocss", "pico", "scss");

// What each name that templates use is built from, in order. A feature that adds a
// script adds it to "js/plumb.js" here; stylesheets are @imported by static/css/plumb.css.
const BUNDLES = {
  // Pico first, so that our styles win over it at equal specificity.
  "css/plumb.css": ["frontend/pico-modules.scss", "static/css/plumb.css"],
  // htmx first: the scripts after it may use `htmx`. All were `defer` scripts in this
  // order, so one deferred script runs them the same way.
  "js/plumb.js": [
    "node_modules/htmx.org/dist/htmx.min.js",
    "static/js/plumb.js",
    "static/js/answers.js",
    "static/js/search.js",
    "static/js/graph.js",
    "static/js/support.js",
  ],
  "favicon.svg": ["static/favicon.svg"],
};

// Every file a build reads, relative to ROOT (Pico's own partials stand behind
// package-lock.json, which names its version).
const inputs = new Set(["package-lock.json", "frontend/build.mjs"]);

function noteInput(file) {
  const relative = path.relative(ROOT, file);
  if (!relative.startsWith("node_modules") && !relative.startsWith("..")) inputs.add(relative);
}

async function stylesheet(file) {
  if (file.endsWith(".scss")) {
    const compiled = sass.compile(file, { loadPaths: [PICO_SCSS], quietDeps: true, silenceDeprecations: ["if-function"] });
    compiled.loadedUrls.forEach((url) => noteInput(fileURLToPath(url)));
    return compiled.css;
  }
  // esbuild resolves the @imports, so the features' files arrive in one piece.
  const result = await esbuild.build({
    entryPoints: [file], bundle: true, write: false, metafile: true, absWorkingDir: ROOT, logLevel: "warning",
  });
  Object.keys(result.metafile.inputs).forEach((input) => noteInput(path.join(ROOT, input)));
  return result.outputFiles[0].text;
}

// Written under a name of this process's own, then renamed: a server, or another build
// running at the same moment, never reads half a file.
function writeWhole(target, content) {
  const partial = `${target}.${process.pid}.partial`;
  fs.writeFileSync(partial, content);
  fs.renameSync(partial, target);
}

async function build(name, sources) {
  const files = sources.map((source) => path.join(ROOT, source));
  const extension = path.extname(name);
  let content;
  if (extension === ".css") {
    const parts = [];
    for (const file of files) parts.push(await stylesheet(file));
    content = (await esbuild.transform(parts.join("\n"), { loader: "css", minify: true })).code;
  } else if (extension === ".js") {
    // Concatenated as the classic scripts they are (not bundled as modules, which would
    // hide `htmx` and the features' globals from each other). Without a `format`,
    // esbuild keeps top-level names as they are.
    files.forEach(noteInput);
    const joined = files.map((file) => fs.readFileSync(file, "utf8")).join("\n;\n");
    content = (await esbuild.transform(joined, { loader: "js", minify: true })).code;
  } else {
    files.forEach(noteInput);
    content = fs.readFileSync(files[0]);
  }
  const hash = createHash("sha256").update(content).digest("hex").slice(0, 12);
  const built = `build/${path.basename(name, extension)}.${hash}${extension}`;
  const target = path.join(ROOT, "static", built);
  // Earlier builds stay: a page rendered before this build may still ask for them.
  if (!fs.existsSync(target)) {
    const bytes = Buffer.from(content);
    writeCompressed(target, bytes);
    writeWhole(target, bytes);
  }
  return built;
}

// As WhiteNoise's own compressor does: the strongest settings, since each file is
// compressed once and served many times, and only copies that save something.
function writeCompressed(target, bytes) {
  const copies = {
    ".br": zlib.brotliCompressSync(bytes, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }),
    ".gz": zlib.gzipSync(bytes, { level: 9 }),
  };
  for (const [suffix, packed] of Object.entries(copies)) {
    if (packed.length < bytes.length * 0.95) writeWhole(target + suffix, packed);
  }
}

fs.mkdirSync(OUT, { recursive: true });
const manifest = {};
for (const [name, sources] of Object.entries(BUNDLES)) manifest[name] = await build(name, sources);
writeWhole(path.join(OUT, "inputs.json"), JSON.stringify([...inputs].sort(), null, 2) + "\n");
writeWhole(path.join(OUT, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
for (const [name, built] of Object.entries(manifest)) {
  console.log(`${name} -> static/${built} (${fs.statSync(path.join(ROOT, "static", built)).size} bytes)`);
}
