// f32 matrix product C = A·B over strided operands (GotoBLAS/BLIS loop order).
//
// Panels of B (KC×NC) and blocks of A (MC×KC) are packed into per-thread
// workspace so that the 4×8 register-tiled micro-kernel streams unit-stride
// memory whatever the operands' strides: a transposed operand costs only a
// different packing walk, never a copy of the matrix. Threads split the
// (batch, row-panel) space; each packs its own B panel (the redundant packing
// is O(K·N) against O(M·N·K/threads) of arithmetic).

export const MR: i32 = 4;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 128;
export const NC: i32 = 1024;

/** Bytes of workspace one thread needs: packed A block, packed B panel and an edge tile. */
export const WORK_BYTES: i32 = (MC * KC + KC * NC + MR * NR) * 4;

/** Packs rows [0, mc) × cols [0, kc) of A into MR-row panels, k-major, zero-padded. */
function packA(a: usize, mc: i32, kc: i32, rs: i32, cs: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const panel = dst + <usize>(ir * kc) * 4;
    if (mr == MR && rs == 1) {
      // Transposed A: the MR rows of one k are adjacent in memory.
      let src = a + <usize>ir * 4;
      const step = <usize>cs * 4;
      for (let p = 0; p < kc; p++) {
        v128.store(panel + <usize>(p * MR) * 4, v128.load(src));
        src += step;
      }
    } else if (mr == MR && cs == 1) {
      // Row-major A: four contiguous rows, transposed 4×4 at a time.
      const r0 = a + <usize>(ir * rs) * 4;
      const r1 = r0 + <usize>rs * 4;
      const r2 = r1 + <usize>rs * 4;
      const r3 = r2 + <usize>rs * 4;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>p * 4;
        const x0 = v128.load(r0 + o);
        const x1 = v128.load(r1 + o);
        const x2 = v128.load(r2 + o);
        const x3 = v128.load(r3 + o);
        const t0 = v128.shuffle<i32>(x0, x1, 0, 4, 1, 5);
        const t1 = v128.shuffle<i32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<i32>(x0, x1, 2, 6, 3, 7);
        const t3 = v128.shuffle<i32>(x2, x3, 2, 6, 3, 7);
        const d = panel + <usize>(p * MR) * 4;
        v128.store(d, v128.shuffle<i64>(t0, t1, 0, 2));
        v128.store(d, v128.shuffle<i64>(t0, t1, 1, 3), 16);
        v128.store(d, v128.shuffle<i64>(t2, t3, 0, 2), 32);
        v128.store(d, v128.shuffle<i64>(t2, t3, 1, 3), 48);
      }
      for (; p < kc; p++) {
        const d = panel + <usize>(p * MR) * 4;
        const o = <usize>p * 4;
        store<f32>(d, load<f32>(r0 + o));
        store<f32>(d, load<f32>(r1 + o), 4);
        store<f32>(d, load<f32>(r2 + o), 8);
        store<f32>(d, load<f32>(r3 + o), 12);
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = panel + <usize>(p * MR) * 4;
        for (let i = 0; i < MR; i++) {
          const v: f32 = i < mr ? load<f32>(a + <usize>((ir + i) * rs + p * cs) * 4) : 0;
          store<f32>(d + <usize>i * 4, v);
        }
      }
    }
  }
}

/** Packs rows [0, kc) × cols [0, nc) of B into NR-column panels, k-major, zero-padded. */
function packB(b: usize, kc: i32, nc: i32, rs: i32, cs: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const panel = dst + <usize>(jr * kc) * 4;
    if (nr == NR && cs == 1) {
      let src = b + <usize>jr * 4;
      const step = <usize>rs * 4;
      for (let p = 0; p < kc; p++) {
        const d = panel + <usize>(p * NR) * 4;
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        src += step;
      }
    } else if (nr == NR && rs == 1) {
      // Transposed B: each column is contiguous in k; transpose 4×4 blocks.
      for (let h = 0; h < 2; h++) {
        const c0 = b + <usize>((jr + h * 4) * cs) * 4;
        const c1 = c0 + <usize>cs * 4;
        const c2 = c1 + <usize>cs * 4;
        const c3 = c2 + <usize>cs * 4;
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const o = <usize>p * 4;
          const x0 = v128.load(c0 + o);
          const x1 = v128.load(c1 + o);
          const x2 = v128.load(c2 + o);
          const x3 = v128.load(c3 + o);
          const t0 = v128.shuffle<i32>(x0, x1, 0, 4, 1, 5);
          const t1 = v128.shuffle<i32>(x2, x3, 0, 4, 1, 5);
          const t2 = v128.shuffle<i32>(x0, x1, 2, 6, 3, 7);
          const t3 = v128.shuffle<i32>(x2, x3, 2, 6, 3, 7);
          const d = panel + <usize>(p * NR + h * 4) * 4;
          v128.store(d, v128.shuffle<i64>(t0, t1, 0, 2));
          v128.store(d, v128.shuffle<i64>(t0, t1, 1, 3), NR * 4);
          v128.store(d, v128.shuffle<i64>(t2, t3, 0, 2), NR * 8);
          v128.store(d, v128.shuffle<i64>(t2, t3, 1, 3), NR * 12);
        }
        for (; p < kc; p++) {
          const d = panel + <usize>(p * NR + h * 4) * 4;
          const o = <usize>p * 4;
          store<f32>(d, load<f32>(c0 + o));
          store<f32>(d, load<f32>(c1 + o), 4);
          store<f32>(d, load<f32>(c2 + o), 8);
          store<f32>(d, load<f32>(c3 + o), 12);
        }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = panel + <usize>(p * NR) * 4;
        for (let j = 0; j < NR; j++) {
          const v: f32 = j < nr ? load<f32>(b + <usize>(p * rs + (jr + j) * cs) * 4) : 0;
          store<f32>(d + <usize>j * 4, v);
        }
      }
    }
  }
}

/**
 * The 4×8 micro-kernel: C[0..mr, 0..nr] (+)= Apanel · Bpanel over kc. Full tiles
 * load/store C directly; edge tiles go through `tmp`.
 */
function micro(
  pa: usize,
  pb: usize,
  kc: i32,
  c: usize,
  ldc: usize,
  mr: i32,
  nr: i32,
  accumulate: bool,
  tmp: usize,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let p = 0;
  for (; p + 2 <= kc; p += 2) {
    let b0 = v128.load(pb);
    let b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    b0 = v128.load(pb, 32);
    b1 = v128.load(pb, 48);
    a = v128.load32_splat(pa, 16);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 20);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 24);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 28);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 32;
    pb += 64;
  }
  if (p < kc) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
  }
  if (mr == MR && nr == NR) {
    if (accumulate) {
      c00 = f32x4.add(c00, v128.load(c));
      c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + ldc));
      c11 = f32x4.add(c11, v128.load(c + ldc, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * ldc));
      c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
      c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
    }
    v128.store(c, c00);
    v128.store(c, c01, 16);
    v128.store(c + ldc, c10);
    v128.store(c + ldc, c11, 16);
    v128.store(c + 2 * ldc, c20);
    v128.store(c + 2 * ldc, c21, 16);
    v128.store(c + 3 * ldc, c30);
    v128.store(c + 3 * ldc, c31, 16);
    return;
  }
  v128.store(tmp, c00);
  v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32);
  v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64);
  v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96);
  v128.store(tmp, c31, 112);
  for (let i = 0; i < mr; i++) {
    const row = c + <usize>i * ldc;
    for (let j = 0; j < nr; j++) {
      const v = load<f32>(tmp + <usize>(i * NR + j) * 4);
      const d = row + <usize>j * 4;
      store<f32>(d, accumulate ? load<f32>(d) + v : v);
    }
  }
}

/** Rows [r0, r1) of one product; C is contiguous [m, n]. */
function gemm(
  a: usize,
  b: usize,
  c: usize,
  r0: i32,
  r1: i32,
  n: i32,
  k: i32,
  ars: i32,
  acs: i32,
  brs: i32,
  bcs: i32,
  work: usize,
): void {
  const pA = work;
  const pB = pA + <usize>(MC * KC) * 4;
  const tmp = pB + <usize>(KC * NC) * 4;
  const ldc = <usize>n * 4;
  if (k == 0) {
    for (let i = r0; i < r1; i++) memory.fill(c + <usize>i * ldc, 0, ldc);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packB(b + <usize>(pc * brs + jc * bcs) * 4, kc, nc, brs, bcs, pB);
      for (let ic = r0; ic < r1; ic += MC) {
        const mc = min(MC, r1 - ic);
        packA(a + <usize>(ic * ars + pc * acs) * 4, mc, kc, ars, acs, pA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pbp = pB + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            micro(
              pA + <usize>(ir * kc) * 4,
              pbp,
              kc,
              c + <usize>(ic + ir) * ldc + <usize>(jc + jr) * 4,
              ldc,
              min(MR, mc - ir),
              nr,
              pc > 0,
              tmp,
            );
          }
        }
      }
    }
  }
}

/**
 * Batched C[t] = A[t]·B[t] with element strides (rows, cols) per operand; `offs`
 * holds per-batch element offsets (i32 pairs aOff, bOff); C is contiguous
 * [batch, m, n]. Thread `tid` of `nth` takes its share of the batch × row-panel space.
 */
export function matmul_f32(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  ars: i32,
  acs: i32,
  brs: i32,
  bcs: i32,
  batch: i32,
  offs: usize,
  work: usize,
  tid: i32,
  nth: i32,
): void {
  const units = (m + MR - 1) / MR;
  const total = <i64>units * batch;
  const u0 = <i32>((total * tid) / nth);
  const u1 = <i32>((total * (tid + 1)) / nth);
  const ws = work + <usize>tid * <usize>WORK_BYTES;
  let u = u0;
  while (u < u1) {
    const t = u / units;
    const first = u - t * units;
    const last = min(units, first + (u1 - u));
    const aOff = load<i32>(offs + <usize>t * 8);
    const bOff = load<i32>(offs + <usize>t * 8 + 4);
    gemm(
      a + <usize>aOff * 4,
      b + <usize>bOff * 4,
      c + <usize>t * <usize>m * <usize>n * 4,
      first * MR,
      min(m, last * MR),
      n,
      k,
      ars,
      acs,
      brs,
      bcs,
      ws,
    );
    u += last - first;
  }
}
