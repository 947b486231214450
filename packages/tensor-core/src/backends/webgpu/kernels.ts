// Registers every WebGPU kernel (imported for its side effect by index.ts).
import './elementwise-kernels.js';
import './reduce-kernels.js';
import './layout-kernels.js';
import './norm-kernels.js';
import './cross-entropy-kernels.js';
import './random-kernels.js';
import './matmul-kernels.js';
import './softmax-kernels.js';
import './reduce-extra-kernels.js';
import './indexing-kernels.js';
import './join-kernels.js';
import './topk-cumsum-kernels.js';
import './swiglu-kernels.js';
import './attention-kernels.js';
import './linear-kernels.js';
