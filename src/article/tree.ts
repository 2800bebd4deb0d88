// markdown-it gives a flat token stream; rendering with context (inside a table cell, a list item…) is
// simpler on a tree.

import type Token from "markdown-it/lib/token.mjs";

export interface Node {
  token: Token;
  /** Blocks between an opening token and its matching close; empty for leaf tokens. */
  children: Node[];
}

export function buildTree(tokens: readonly Token[]): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  for (const token of tokens) {
    const siblings = stack[stack.length - 1]!;
    if (token.nesting === 1) {
      const node: Node = { token, children: [] };
      siblings.push(node);
      stack.push(node.children);
    } else if (token.nesting === -1) {
      if (stack.length > 1) stack.pop();
    } else {
      siblings.push({ token, children: [] });
    }
  }
  return root;
}

/** Depth-first walk over nodes (not into inline children). */
export function* walk(nodes: readonly Node[]): Generator<Node> {
  for (const node of nodes) {
    yield node;
    yield* walk(node.children);
  }
}
