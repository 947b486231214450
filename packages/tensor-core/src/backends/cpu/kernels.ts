// Registers every reference kernel (imported for its side effect by index.ts).
import './elementwise-kernels.js';
import './reduce-kernels.js';
import './layout-kernels.js';
