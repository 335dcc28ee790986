// The first ```mermaid block of a Markdown file: read to compare with the stack, replaced to regenerate it.

const BLOCK = /^```mermaid\n([\s\S]*?)^```$/m;

/** The text inside the first mermaid block, or undefined when there is none. */
export function mermaidBlock(markdown: string): string | undefined {
  return BLOCK.exec(markdown)?.[1];
}

/** The Markdown with its first mermaid block's text replaced; throws when there is no block to replace. */
export function replaceMermaidBlock(markdown: string, mermaid: string): string {
  if (mermaidBlock(markdown) === undefined) throw new Error("no ```mermaid block to replace");
  return markdown.replace(BLOCK, () => "```mermaid\n" + mermaid + "```");
}
