// The tests and the benchmark pick free ports the same way; bench/ holds it, since it never imports test/.
export { freePort } from '../../bench/free-port.js';
