// The README is a landing page of at most 150 lines, and every relative link in it and in docs/
// reaches a file of the repository (and a heading of it, when the link names one).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";

// Compiled to dist/tools/, two levels below the project root.
const ROOT = path.join(__dirname, "..", "..");
const README_MAX_LINES = 150;
// Folders that exist in a checkout but not in the repository (.gitignore).
const NOT_IN_REPOSITORY = ["node_modules", "dist", ".lab", ".pulumi-state", ".git"];

interface Link {
  readonly file: string;
  readonly target: string;
}

function read(file: string): string {
  return fs.readFileSync(path.join(ROOT, file), "utf8");
}

/** The Markdown pages under test: README.md and every docs/*.md, relative to the root. */
function pages(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((name) => name.endsWith(".md")).sort();
  return ["README.md", ...docs.map((name) => path.join("docs", name))];
}

/** The text outside fenced code blocks, line by line (a fenced line becomes empty). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split("\n").map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker !== undefined) {
      fence = marker;
      return "";
    }
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return "";
    }
    return line;
  });
}

/** Inline links and images `[text](target)` and reference definitions `[id]: target`, outside code. */
function markdownLinks(file: string, markdown: string): Link[] {
  const links: Link[] = [];
  for (const line of proseLines(markdown)) {
    const text = line.replace(/`[^`]*`/g, "");
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ file, target: match[1] });
    const definition = /^ {0,3}\[[^\]]+\]:\s+<?([^\s>]+)>?/.exec(text);
    if (definition !== null) links.push({ file, target: definition[1] });
  }
  return links;
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/<[^>]+>/g, "")
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const count = seen.get(text) ?? 0;
    seen.set(text, count + 1);
    anchors.add(count === 0 ? text : `${text}-${count}`);
  }
  return anchors;
}

/** Why a link does not reach a file of the repository (or a heading in it), or undefined when it does. */
function brokenLink(link: Link): string | undefined {
  const [rawPath, anchor] = link.target.split("#", 2);
  const target = rawPath === "" ? link.file : path.normalize(path.join(path.dirname(link.file), decodeURIComponent(rawPath)));
  if (target.startsWith("..") || path.isAbsolute(target)) return "points outside the repository";
  if (NOT_IN_REPOSITORY.some((folder) => target === folder || target.startsWith(`${folder}${path.sep}`))) return "points at a file that is not in the repository";
  if (!fs.existsSync(path.join(ROOT, target))) return `${target} does not exist`;
  if (anchor !== undefined && target.endsWith(".md") && !headingAnchors(read(target)).has(anchor)) return `${target} has no heading #${anchor}`;
  return undefined;
}

const hasScheme = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

test("the README is at most 150 lines", () => {
  const lines = read("README.md").replace(/\n$/, "").split("\n").length;
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines`);
});

test("the README links only to files of the repository, and names no path outside it", () => {
  const readme = read("README.md");
  const links = markdownLinks("README.md", readme);
  assert.ok(links.length >= 8, `found only ${links.length} links`);
  assert.deepEqual(links.filter((link) => hasScheme(link.target)).map((link) => link.target), []);
  assert.doesNotMatch(readme, /\.\.\//, "the README names a path outside the repository");
});

test("every relative link in README.md and docs/ reaches a file of the repository, and its heading when it names one", () => {
  const links = pages().flatMap((file) => markdownLinks(file, read(file)));
  const relative = links.filter((link) => !hasScheme(link.target));
  assert.ok(relative.length >= 40, `found only ${relative.length} relative links`);
  const broken = relative.flatMap((link) => {
    const why = brokenLink(link);
    return why === undefined ? [] : [`${link.file}: (${link.target}) ${why}`];
  });
  assert.deepEqual(broken, []);
});

test("the README links every page of docs/", () => {
  const linked = new Set(markdownLinks("README.md", read("README.md")).map((link) => path.normalize(link.target.split("#")[0])));
  assert.deepEqual(pages().filter((page) => page !== "README.md" && !linked.has(page)), []);
});

test("the link checker finds links outside code, and anchors as GitHub makes them", () => {
  const page = "# Drift report: `npm run doctor`\n## A sudo user\n## A sudo user\n```sh\n[not](a-link.md)\n# not a heading\n```\nSee [x](docs/a.md#b) and `[code](c.md)`.\n[ref]: https://example.org/\n";
  assert.deepEqual(
    markdownLinks("README.md", page).map((link) => link.target),
    ["docs/a.md#b", "https://example.org/"],
  );
  assert.deepEqual([...headingAnchors(page)], ["drift-report-npm-run-doctor", "a-sudo-user", "a-sudo-user-1"]);
  assert.equal(brokenLink({ file: "docs/x.md", target: "../../shared/seed/" }), "points outside the repository");
  assert.equal(brokenLink({ file: "README.md", target: "docs/nothere.md" }), "docs/nothere.md does not exist");
  assert.equal(brokenLink({ file: "README.md", target: "README.md#no-such-heading" }), "README.md has no heading #no-such-heading");
  assert.equal(brokenLink({ file: "README.md", target: "dist/index.js" }), "points at a file that is not in the repository");
});
