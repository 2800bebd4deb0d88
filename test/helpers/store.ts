import { openStore } from "../../src/store/db.js";
import { tempDir } from "./run.js";

/** A store in a fresh TOPN_HOME, closed and removed after the test. */
export function testStore(t: { after(fn: () => void): void }) {
  const home = tempDir(t);
  const store = openStore(home);
  t.after(() => store.close());
  return { home, store };
}
