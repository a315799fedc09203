// Validates an AsyncAPI document with the official parser; exits non-zero on any error-level diagnostic.
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const path = process.argv[2] ?? "docs/asyncapi.json";
const parser = new Parser();
const { document, diagnostics } = await parser.parse(await readFile(path, "utf8"));
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of errors) console.error(`${path}: ${d.path.join(".")}: ${d.message}`);
if (!document || errors.length) process.exit(1);
console.log(`${path}: valid AsyncAPI ${document.version()}, ${document.channels().length} channels, ` +
  `${document.operations().length} operations (${diagnostics.length - errors.length} warnings)`);
