// Run with: node --single-threaded docs/api-example.js /path/to/bundle
// (as root; the bundle made as in the README). Creates a container with the
// library API, starts it, reads one stats event and its state, stops it.
'use strict';
const { Container, TsruncError } = require('tsrunc'); // from a checkout: require('..')

async function main(bundle) {
  const root = '/run/tsrunc-example';
  const c = await Container.create(`example-${process.pid}`, { bundle, root });
  try {
    await c.start();
    console.log('state:', c.state().status);
    for await (const e of c.events({ stats: true })) console.log(`pids in the container: ${e.data.pids.current}`); // counters are bigints
    await c.kill('SIGKILL');
  } finally {
    await c.delete({ force: true });
  }
}

main(process.argv[2]).catch((e) => {
  console.error(e instanceof TsruncError ? `tsrunc: ${e.message}` : e);
  process.exit(1);
});
