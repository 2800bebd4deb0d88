import { AsyncEntry, Entry, findCredentials } from "@napi-rs/keyring";
const t0 = performance.now();
let e;
try { e = new AsyncEntry("topn:probe", "probe", { linux: { store: "secret-service" } }); } catch (err) { console.log("ctor threw", err.message, err.code, performance.now()-t0); process.exit(0); }
console.log("ctor ok", performance.now()-t0);
try { await e.setPassword("x"); console.log("set ok", performance.now()-t0); console.log(await e.getPassword(), performance.now()-t0); console.log(await e.deleteCredential(), performance.now()-t0); } catch (err) { console.log("op threw", err.message, err.code, performance.now()-t0); }
