// JSON.parse keeps the LAST of two equal keys, so a nixnode.json with "port" twice silently means
// something its author may not have read. This scan (of text JSON.parse has accepted) finds the
// first key that appears twice in one object and names it as the operator would write the field.

type Frame =
  { kind: "object"; keys: Set<string>; key: string | null; awaitingKey: boolean } | { kind: "array"; index: number };

function fieldPath(stack: Frame[], last: string): string {
  let path = "";
  for (const f of stack.slice(0, -1)) {
    if (f.kind === "array") path += `[${f.index}]`;
    else path += path === "" ? f.key : `.${f.key}`;
  }
  return path === "" ? last : `${path}.${last}`;
}

/** The path of the first duplicated key (e.g. "ssh.port"), or null. `text` must be valid JSON. */
export function findDuplicateKey(text: string): string | null {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (top?.kind === "object" && top.awaitingKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return fieldPath(stack, key);
        top.keys.add(key);
        top.key = key;
        top.awaitingKey = false;
      }
      i = j;
    } else if (c === "{") stack.push({ kind: "object", keys: new Set(), key: null, awaitingKey: true });
    else if (c === "[") stack.push({ kind: "array", index: 0 });
    else if (c === "}" || c === "]") stack.pop();
    else if (c === ",") {
      if (top?.kind === "object") top.awaitingKey = true;
      else if (top?.kind === "array") top.index++;
    }
  }
  return null;
}
