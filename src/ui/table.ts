import Table from "cli-table3";

const BORDERLESS = Object.fromEntries(
  [
    "top",
    "top-mid",
    "top-left",
    "top-right",
    "bottom",
    "bottom-mid",
    "bottom-left",
    "bottom-right",
    "left",
    "left-mid",
    "mid",
    "mid-mid",
    "right",
    "right-mid",
    "middle",
  ].map((k) => [k, ""]),
);

/** A borderless table, like `ps` or `kubectl get`: easy to read, grep and paste. Cells are pre-fitted. */
export function renderTable(head: string[], rows: string[][]): string {
  const table = new Table({
    head,
    chars: BORDERLESS,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 2 },
  });
  table.push(...rows);
  return table
    .toString()
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n");
}
