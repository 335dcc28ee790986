// Draws a Pulumi.<stack>.yaml as Mermaid (stdout) and, where Graphviz `dot` is installed, as an SVG:
// `npm run diagram -- Pulumi.dev.yaml [--out <file.svg>] [--readme <README.md>]`.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderDot, renderMermaid, replaceMermaidBlock } from "../diagram";
import { loadStackTopology } from "./validate";

const USAGE = "usage: npm run diagram -- Pulumi.<stack>.yaml [--out <file.svg>] [--readme <README.md>]";

export interface DiagramReport {
  /** 0 drawn, 1 problems in the stack file, 2 it could not be drawn (no file, bad command line, dot failed). */
  readonly exitCode: 0 | 1 | 2;
  /** The Mermaid text, on success only. */
  readonly stdout: string;
  /** What happened to the SVG and the README, or why nothing was drawn. */
  readonly stderr: string;
}

interface DiagramRequest {
  readonly stackFile: string;
  /** Where the SVG goes; default: beside the stack file, `Pulumi.<stack>.svg`. */
  readonly svgFile: string;
  /** A Markdown file whose first mermaid block is replaced by the diagram. */
  readonly readme?: string;
}

export interface DiagramOptions {
  /** The Graphviz command; default `dot`, found on PATH. */
  readonly dot?: string;
}

export function diagramCommandLine(args: readonly string[], options: DiagramOptions = {}): DiagramReport {
  if (args.length === 1 && (args[0] === "-h" || args[0] === "--help")) return { exitCode: 0, stdout: `${USAGE}\n`, stderr: "" };
  const request = parseArguments(args);
  if (request === undefined) return { exitCode: 2, stdout: "", stderr: `${USAGE}\n` };

  const loaded = loadStackTopology(request.stackFile);
  if (!loaded.ok) return { exitCode: loaded.report.exitCode, stdout: "", stderr: `${loaded.report.output}\n` };

  const mermaid = renderMermaid(loaded.topology);
  const notes: string[] = [];
  const svg = writeSvg(renderDot(loaded.topology), request.svgFile, options.dot ?? "dot");
  notes.push(svg.note);
  if (request.readme !== undefined) {
    try {
      fs.writeFileSync(request.readme, replaceMermaidBlock(fs.readFileSync(request.readme, "utf8"), mermaid));
    } catch (error) {
      return { exitCode: 2, stdout: "", stderr: `${request.readme}: ${(error as Error).message}\n` };
    }
    notes.push(`updated the mermaid block of ${request.readme}`);
  }
  return { exitCode: svg.ok ? 0 : 2, stdout: mermaid, stderr: `${notes.join("\n")}\n` };
}

function parseArguments(args: readonly string[]): DiagramRequest | undefined {
  let stackFile: string | undefined;
  let svgFile: string | undefined;
  let readme: string | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === "--out" || arg === "--readme") {
      const value = args[++index];
      if (value === undefined || value === "" || value.startsWith("-")) return undefined;
      if (arg === "--out") svgFile = value;
      else readme = value;
    } else if (arg === "" || arg.startsWith("-") || stackFile !== undefined) {
      return undefined;
    } else {
      stackFile = arg;
    }
  }
  if (stackFile === undefined) return undefined;
  return { stackFile, svgFile: svgFile ?? besideStackFile(stackFile), readme };
}

/** Pulumi.dev.yaml → Pulumi.dev.svg in the same folder. */
function besideStackFile(stackFile: string): string {
  const name = path.basename(stackFile).replace(/\.ya?ml$/, "");
  return path.join(path.dirname(stackFile), `${name}.svg`);
}

function writeSvg(dotText: string, file: string, dot: string): { ok: boolean; note: string } {
  const run = spawnSync(dot, ["-Tsvg", "-o", file], { input: dotText, encoding: "utf8" });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    return { ok: true, note: `SVG skipped: Graphviz ${dot} is not installed (apt-get install graphviz)` };
  }
  // A dot that fails before it reads all of its input leaves EPIPE behind: its own words say why.
  const error = (run.error as NodeJS.ErrnoException | undefined)?.code === "EPIPE" ? undefined : run.error;
  if (error !== undefined || run.status !== 0) {
    const detail = error?.message ?? ((run.stderr ?? "").trim() || `exit status ${run.status}`);
    return { ok: false, note: `SVG not written: ${dot} failed: ${detail}` };
  }
  return { ok: true, note: `wrote ${file}` };
}

if (require.main === module) {
  const report = diagramCommandLine(process.argv.slice(2));
  process.stdout.write(report.stdout);
  process.stderr.write(report.stderr);
  process.exitCode = report.exitCode;
}
