/*
 * Batched Keccak-256 (the Ethereum variant: pad10*1 with domain byte 0x01, rate 136) as a Node-API addon.
 *
 * Why: hashing a file Merkle tree costs one call per 256-byte chunk and per 64-byte pair; crossing into
 * JavaScript per hash dominates. These entry points hash whole arrays of equal-sized items (and whole
 * segment trees) in one call. Written from the Keccak specification (FIPS 202 section 3); the round
 * constants and rho offsets are derived at load time from their defining recurrences rather than tabled.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RATE 136
#define ROUNDS 24

static uint64_t round_constants[ROUNDS];
static unsigned rho_offsets[25]; /* indexed by x + 5y */

static inline uint64_t rotl64(uint64_t v, unsigned n) { return n == 0 ? v : (v << n) | (v >> (64 - n)); }

/* rc(t): the output of the LFSR x^8 + x^6 + x^5 + x^4 + 1 (FIPS 202 Algorithm 5). */
static int lfsr_bit(unsigned t) {
  if (t % 255 == 0) return 1;
  unsigned r = 1;
  for (unsigned i = 1; i <= t % 255; i++) {
    r <<= 1;
    if (r & 0x100) r ^= 0x171;
  }
  return r & 1;
}

static void derive_constants(void) {
  for (unsigned ir = 0; ir < ROUNDS; ir++) {
    uint64_t rc = 0;
    for (unsigned j = 0; j <= 6; j++) {
      if (lfsr_bit(j + 7 * ir)) rc |= (uint64_t)1 << ((1u << j) - 1);
    }
    round_constants[ir] = rc;
  }
  /* rho: walk (x, y) -> (y, 2x + 3y) from (1, 0); offset of step t is (t+1)(t+2)/2 mod 64. */
  rho_offsets[0] = 0;
  unsigned x = 1, y = 0;
  for (unsigned t = 0; t < 24; t++) {
    rho_offsets[x + 5 * y] = ((t + 1) * (t + 2) / 2) % 64;
    unsigned nx = y, ny = (2 * x + 3 * y) % 5;
    x = nx;
    y = ny;
  }
}

/* rho offsets r[x + 5y] as used below; checked at load against the recurrence-derived values. */
static const unsigned rho_table[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14};

#define ROL(v, n) (((n) == 0) ? (v) : (((v) << ((n) & 63)) | ((v) >> ((64 - (n)) & 63))))

/* Keccak-f[1600], one round per loop iteration, lanes held in locals (a[x + 5y]). */
static void keccak_f1600(uint64_t st[25]) {
  uint64_t a0 = st[0], a1 = st[1], a2 = st[2], a3 = st[3], a4 = st[4], a5 = st[5], a6 = st[6], a7 = st[7], a8 = st[8], a9 = st[9], a10 = st[10], a11 = st[11], a12 = st[12], a13 = st[13], a14 = st[14], a15 = st[15], a16 = st[16], a17 = st[17], a18 = st[18], a19 = st[19], a20 = st[20], a21 = st[21], a22 = st[22], a23 = st[23], a24 = st[24];
  uint64_t b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24;
  uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
  for (unsigned round = 0; round < ROUNDS; round++) {
    c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
    c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
    c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
    c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
    c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
    d0 = c4 ^ ROL(c1, 1);
    d1 = c0 ^ ROL(c2, 1);
    d2 = c1 ^ ROL(c3, 1);
    d3 = c2 ^ ROL(c4, 1);
    d4 = c3 ^ ROL(c0, 1);
    b0 = ROL(a0 ^ d0, 0);
    b10 = ROL(a1 ^ d1, 1);
    b20 = ROL(a2 ^ d2, 62);
    b5 = ROL(a3 ^ d3, 28);
    b15 = ROL(a4 ^ d4, 27);
    b16 = ROL(a5 ^ d0, 36);
    b1 = ROL(a6 ^ d1, 44);
    b11 = ROL(a7 ^ d2, 6);
    b21 = ROL(a8 ^ d3, 55);
    b6 = ROL(a9 ^ d4, 20);
    b7 = ROL(a10 ^ d0, 3);
    b17 = ROL(a11 ^ d1, 10);
    b2 = ROL(a12 ^ d2, 43);
    b12 = ROL(a13 ^ d3, 25);
    b22 = ROL(a14 ^ d4, 39);
    b23 = ROL(a15 ^ d0, 41);
    b8 = ROL(a16 ^ d1, 45);
    b18 = ROL(a17 ^ d2, 15);
    b3 = ROL(a18 ^ d3, 21);
    b13 = ROL(a19 ^ d4, 8);
    b14 = ROL(a20 ^ d0, 18);
    b24 = ROL(a21 ^ d1, 2);
    b9 = ROL(a22 ^ d2, 61);
    b19 = ROL(a23 ^ d3, 56);
    b4 = ROL(a24 ^ d4, 14);
    a0 = b0 ^ (~b1 & b2);
    a1 = b1 ^ (~b2 & b3);
    a2 = b2 ^ (~b3 & b4);
    a3 = b3 ^ (~b4 & b0);
    a4 = b4 ^ (~b0 & b1);
    a5 = b5 ^ (~b6 & b7);
    a6 = b6 ^ (~b7 & b8);
    a7 = b7 ^ (~b8 & b9);
    a8 = b8 ^ (~b9 & b5);
    a9 = b9 ^ (~b5 & b6);
    a10 = b10 ^ (~b11 & b12);
    a11 = b11 ^ (~b12 & b13);
    a12 = b12 ^ (~b13 & b14);
    a13 = b13 ^ (~b14 & b10);
    a14 = b14 ^ (~b10 & b11);
    a15 = b15 ^ (~b16 & b17);
    a16 = b16 ^ (~b17 & b18);
    a17 = b17 ^ (~b18 & b19);
    a18 = b18 ^ (~b19 & b15);
    a19 = b19 ^ (~b15 & b16);
    a20 = b20 ^ (~b21 & b22);
    a21 = b21 ^ (~b22 & b23);
    a22 = b22 ^ (~b23 & b24);
    a23 = b23 ^ (~b24 & b20);
    a24 = b24 ^ (~b20 & b21);
    a0 ^= round_constants[round];
  }
  st[0] = a0; st[1] = a1; st[2] = a2; st[3] = a3; st[4] = a4; st[5] = a5; st[6] = a6; st[7] = a7; st[8] = a8; st[9] = a9; st[10] = a10; st[11] = a11; st[12] = a12; st[13] = a13; st[14] = a14; st[15] = a15; st[16] = a16; st[17] = a17; st[18] = a18; st[19] = a19; st[20] = a20; st[21] = a21; st[22] = a22; st[23] = a23; st[24] = a24;
}

static inline uint64_t load64le(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static inline void store64le(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void keccak256(const uint8_t *in, size_t len, uint8_t out[32]) {
  uint64_t a[25];
  memset(a, 0, sizeof a);
  while (len >= RATE) {
    for (unsigned i = 0; i < RATE / 8; i++) a[i] ^= load64le(in + 8 * i);
    keccak_f1600(a);
    in += RATE;
    len -= RATE;
  }
  uint8_t last[RATE];
  memset(last, 0, RATE);
  memcpy(last, in, len);
  last[len] ^= 0x01;
  last[RATE - 1] ^= 0x80;
  for (unsigned i = 0; i < RATE / 8; i++) a[i] ^= load64le(last + 8 * i);
  keccak_f1600(a);
  for (unsigned i = 0; i < 4; i++) store64le(out + 8 * i, a[i]);
}


/* ---- Multi-buffer Keccak: 4 (AVX2) or 8 (AVX-512) independent equal-length inputs per permutation ---- */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ZG_X86 1
#include <immintrin.h>

__attribute__((target("avx2"))) static void keccak_f1600_x4(__m256i *st) {
  __m256i a0 = st[0], a1 = st[1], a2 = st[2], a3 = st[3], a4 = st[4], a5 = st[5], a6 = st[6], a7 = st[7], a8 = st[8], a9 = st[9], a10 = st[10], a11 = st[11], a12 = st[12], a13 = st[13], a14 = st[14], a15 = st[15], a16 = st[16], a17 = st[17], a18 = st[18], a19 = st[19], a20 = st[20], a21 = st[21], a22 = st[22], a23 = st[23], a24 = st[24];
  __m256i b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24;
  __m256i c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
  for (unsigned round = 0; round < ROUNDS; round++) {
    c0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a0, a5), a10), a15), a20);
    c1 = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a1, a6), a11), a16), a21);
    c2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a2, a7), a12), a17), a22);
    c3 = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a3, a8), a13), a18), a23);
    c4 = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a4, a9), a14), a19), a24);
    d0 = _mm256_xor_si256(c4, _mm256_or_si256(_mm256_slli_epi64(c1, 1), _mm256_srli_epi64(c1, 63)));
    d1 = _mm256_xor_si256(c0, _mm256_or_si256(_mm256_slli_epi64(c2, 1), _mm256_srli_epi64(c2, 63)));
    d2 = _mm256_xor_si256(c1, _mm256_or_si256(_mm256_slli_epi64(c3, 1), _mm256_srli_epi64(c3, 63)));
    d3 = _mm256_xor_si256(c2, _mm256_or_si256(_mm256_slli_epi64(c4, 1), _mm256_srli_epi64(c4, 63)));
    d4 = _mm256_xor_si256(c3, _mm256_or_si256(_mm256_slli_epi64(c0, 1), _mm256_srli_epi64(c0, 63)));
    b0 = _mm256_xor_si256(a0, d0);
    b10 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a1, d1), 1), _mm256_srli_epi64(_mm256_xor_si256(a1, d1), 63));
    b20 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a2, d2), 62), _mm256_srli_epi64(_mm256_xor_si256(a2, d2), 2));
    b5 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a3, d3), 28), _mm256_srli_epi64(_mm256_xor_si256(a3, d3), 36));
    b15 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a4, d4), 27), _mm256_srli_epi64(_mm256_xor_si256(a4, d4), 37));
    b16 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a5, d0), 36), _mm256_srli_epi64(_mm256_xor_si256(a5, d0), 28));
    b1 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a6, d1), 44), _mm256_srli_epi64(_mm256_xor_si256(a6, d1), 20));
    b11 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a7, d2), 6), _mm256_srli_epi64(_mm256_xor_si256(a7, d2), 58));
    b21 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a8, d3), 55), _mm256_srli_epi64(_mm256_xor_si256(a8, d3), 9));
    b6 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a9, d4), 20), _mm256_srli_epi64(_mm256_xor_si256(a9, d4), 44));
    b7 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a10, d0), 3), _mm256_srli_epi64(_mm256_xor_si256(a10, d0), 61));
    b17 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a11, d1), 10), _mm256_srli_epi64(_mm256_xor_si256(a11, d1), 54));
    b2 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a12, d2), 43), _mm256_srli_epi64(_mm256_xor_si256(a12, d2), 21));
    b12 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a13, d3), 25), _mm256_srli_epi64(_mm256_xor_si256(a13, d3), 39));
    b22 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a14, d4), 39), _mm256_srli_epi64(_mm256_xor_si256(a14, d4), 25));
    b23 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a15, d0), 41), _mm256_srli_epi64(_mm256_xor_si256(a15, d0), 23));
    b8 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a16, d1), 45), _mm256_srli_epi64(_mm256_xor_si256(a16, d1), 19));
    b18 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a17, d2), 15), _mm256_srli_epi64(_mm256_xor_si256(a17, d2), 49));
    b3 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a18, d3), 21), _mm256_srli_epi64(_mm256_xor_si256(a18, d3), 43));
    b13 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a19, d4), 8), _mm256_srli_epi64(_mm256_xor_si256(a19, d4), 56));
    b14 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a20, d0), 18), _mm256_srli_epi64(_mm256_xor_si256(a20, d0), 46));
    b24 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a21, d1), 2), _mm256_srli_epi64(_mm256_xor_si256(a21, d1), 62));
    b9 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a22, d2), 61), _mm256_srli_epi64(_mm256_xor_si256(a22, d2), 3));
    b19 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a23, d3), 56), _mm256_srli_epi64(_mm256_xor_si256(a23, d3), 8));
    b4 = _mm256_or_si256(_mm256_slli_epi64(_mm256_xor_si256(a24, d4), 14), _mm256_srli_epi64(_mm256_xor_si256(a24, d4), 50));
    a0 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    a1 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    a2 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    a3 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    a4 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    a5 = _mm256_xor_si256(b5, _mm256_andnot_si256(b6, b7));
    a6 = _mm256_xor_si256(b6, _mm256_andnot_si256(b7, b8));
    a7 = _mm256_xor_si256(b7, _mm256_andnot_si256(b8, b9));
    a8 = _mm256_xor_si256(b8, _mm256_andnot_si256(b9, b5));
    a9 = _mm256_xor_si256(b9, _mm256_andnot_si256(b5, b6));
    a10 = _mm256_xor_si256(b10, _mm256_andnot_si256(b11, b12));
    a11 = _mm256_xor_si256(b11, _mm256_andnot_si256(b12, b13));
    a12 = _mm256_xor_si256(b12, _mm256_andnot_si256(b13, b14));
    a13 = _mm256_xor_si256(b13, _mm256_andnot_si256(b14, b10));
    a14 = _mm256_xor_si256(b14, _mm256_andnot_si256(b10, b11));
    a15 = _mm256_xor_si256(b15, _mm256_andnot_si256(b16, b17));
    a16 = _mm256_xor_si256(b16, _mm256_andnot_si256(b17, b18));
    a17 = _mm256_xor_si256(b17, _mm256_andnot_si256(b18, b19));
    a18 = _mm256_xor_si256(b18, _mm256_andnot_si256(b19, b15));
    a19 = _mm256_xor_si256(b19, _mm256_andnot_si256(b15, b16));
    a20 = _mm256_xor_si256(b20, _mm256_andnot_si256(b21, b22));
    a21 = _mm256_xor_si256(b21, _mm256_andnot_si256(b22, b23));
    a22 = _mm256_xor_si256(b22, _mm256_andnot_si256(b23, b24));
    a23 = _mm256_xor_si256(b23, _mm256_andnot_si256(b24, b20));
    a24 = _mm256_xor_si256(b24, _mm256_andnot_si256(b20, b21));
    a0 = _mm256_xor_si256(a0, _mm256_set1_epi64x((long long)round_constants[round]));
  }
  st[0] = a0; st[1] = a1; st[2] = a2; st[3] = a3; st[4] = a4; st[5] = a5; st[6] = a6; st[7] = a7; st[8] = a8; st[9] = a9; st[10] = a10; st[11] = a11; st[12] = a12; st[13] = a13; st[14] = a14; st[15] = a15; st[16] = a16; st[17] = a17; st[18] = a18; st[19] = a19; st[20] = a20; st[21] = a21; st[22] = a22; st[23] = a23; st[24] = a24;
}

__attribute__((target("avx512f"))) static void keccak_f1600_x8(__m512i *st) {
  __m512i a0 = st[0], a1 = st[1], a2 = st[2], a3 = st[3], a4 = st[4], a5 = st[5], a6 = st[6], a7 = st[7], a8 = st[8], a9 = st[9], a10 = st[10], a11 = st[11], a12 = st[12], a13 = st[13], a14 = st[14], a15 = st[15], a16 = st[16], a17 = st[17], a18 = st[18], a19 = st[19], a20 = st[20], a21 = st[21], a22 = st[22], a23 = st[23], a24 = st[24];
  __m512i b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24;
  __m512i c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
  for (unsigned round = 0; round < ROUNDS; round++) {
    c0 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a0, a5, a10, 0x96), a15, a20, 0x96);
    c1 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a1, a6, a11, 0x96), a16, a21, 0x96);
    c2 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a2, a7, a12, 0x96), a17, a22, 0x96);
    c3 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a3, a8, a13, 0x96), a18, a23, 0x96);
    c4 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a4, a9, a14, 0x96), a19, a24, 0x96);
    d0 = _mm512_xor_si512(c4, _mm512_rol_epi64(c1, 1));
    d1 = _mm512_xor_si512(c0, _mm512_rol_epi64(c2, 1));
    d2 = _mm512_xor_si512(c1, _mm512_rol_epi64(c3, 1));
    d3 = _mm512_xor_si512(c2, _mm512_rol_epi64(c4, 1));
    d4 = _mm512_xor_si512(c3, _mm512_rol_epi64(c0, 1));
    b0 = _mm512_xor_si512(a0, d0);
    b10 = _mm512_rol_epi64(_mm512_xor_si512(a1, d1), 1);
    b20 = _mm512_rol_epi64(_mm512_xor_si512(a2, d2), 62);
    b5 = _mm512_rol_epi64(_mm512_xor_si512(a3, d3), 28);
    b15 = _mm512_rol_epi64(_mm512_xor_si512(a4, d4), 27);
    b16 = _mm512_rol_epi64(_mm512_xor_si512(a5, d0), 36);
    b1 = _mm512_rol_epi64(_mm512_xor_si512(a6, d1), 44);
    b11 = _mm512_rol_epi64(_mm512_xor_si512(a7, d2), 6);
    b21 = _mm512_rol_epi64(_mm512_xor_si512(a8, d3), 55);
    b6 = _mm512_rol_epi64(_mm512_xor_si512(a9, d4), 20);
    b7 = _mm512_rol_epi64(_mm512_xor_si512(a10, d0), 3);
    b17 = _mm512_rol_epi64(_mm512_xor_si512(a11, d1), 10);
    b2 = _mm512_rol_epi64(_mm512_xor_si512(a12, d2), 43);
    b12 = _mm512_rol_epi64(_mm512_xor_si512(a13, d3), 25);
    b22 = _mm512_rol_epi64(_mm512_xor_si512(a14, d4), 39);
    b23 = _mm512_rol_epi64(_mm512_xor_si512(a15, d0), 41);
    b8 = _mm512_rol_epi64(_mm512_xor_si512(a16, d1), 45);
    b18 = _mm512_rol_epi64(_mm512_xor_si512(a17, d2), 15);
    b3 = _mm512_rol_epi64(_mm512_xor_si512(a18, d3), 21);
    b13 = _mm512_rol_epi64(_mm512_xor_si512(a19, d4), 8);
    b14 = _mm512_rol_epi64(_mm512_xor_si512(a20, d0), 18);
    b24 = _mm512_rol_epi64(_mm512_xor_si512(a21, d1), 2);
    b9 = _mm512_rol_epi64(_mm512_xor_si512(a22, d2), 61);
    b19 = _mm512_rol_epi64(_mm512_xor_si512(a23, d3), 56);
    b4 = _mm512_rol_epi64(_mm512_xor_si512(a24, d4), 14);
    a0 = _mm512_ternarylogic_epi64(b0, b1, b2, 0xD2);
    a1 = _mm512_ternarylogic_epi64(b1, b2, b3, 0xD2);
    a2 = _mm512_ternarylogic_epi64(b2, b3, b4, 0xD2);
    a3 = _mm512_ternarylogic_epi64(b3, b4, b0, 0xD2);
    a4 = _mm512_ternarylogic_epi64(b4, b0, b1, 0xD2);
    a5 = _mm512_ternarylogic_epi64(b5, b6, b7, 0xD2);
    a6 = _mm512_ternarylogic_epi64(b6, b7, b8, 0xD2);
    a7 = _mm512_ternarylogic_epi64(b7, b8, b9, 0xD2);
    a8 = _mm512_ternarylogic_epi64(b8, b9, b5, 0xD2);
    a9 = _mm512_ternarylogic_epi64(b9, b5, b6, 0xD2);
    a10 = _mm512_ternarylogic_epi64(b10, b11, b12, 0xD2);
    a11 = _mm512_ternarylogic_epi64(b11, b12, b13, 0xD2);
    a12 = _mm512_ternarylogic_epi64(b12, b13, b14, 0xD2);
    a13 = _mm512_ternarylogic_epi64(b13, b14, b10, 0xD2);
    a14 = _mm512_ternarylogic_epi64(b14, b10, b11, 0xD2);
    a15 = _mm512_ternarylogic_epi64(b15, b16, b17, 0xD2);
    a16 = _mm512_ternarylogic_epi64(b16, b17, b18, 0xD2);
    a17 = _mm512_ternarylogic_epi64(b17, b18, b19, 0xD2);
    a18 = _mm512_ternarylogic_epi64(b18, b19, b15, 0xD2);
    a19 = _mm512_ternarylogic_epi64(b19, b15, b16, 0xD2);
    a20 = _mm512_ternarylogic_epi64(b20, b21, b22, 0xD2);
    a21 = _mm512_ternarylogic_epi64(b21, b22, b23, 0xD2);
    a22 = _mm512_ternarylogic_epi64(b22, b23, b24, 0xD2);
    a23 = _mm512_ternarylogic_epi64(b23, b24, b20, 0xD2);
    a24 = _mm512_ternarylogic_epi64(b24, b20, b21, 0xD2);
    a0 = _mm512_xor_si512(a0, _mm512_set1_epi64((long long)round_constants[round]));
  }
  st[0] = a0; st[1] = a1; st[2] = a2; st[3] = a3; st[4] = a4; st[5] = a5; st[6] = a6; st[7] = a7; st[8] = a8; st[9] = a9; st[10] = a10; st[11] = a11; st[12] = a12; st[13] = a13; st[14] = a14; st[15] = a15; st[16] = a16; st[17] = a17; st[18] = a18; st[19] = a19; st[20] = a20; st[21] = a21; st[22] = a22; st[23] = a23; st[24] = a24;
}

/*
 * Hashes W items of `item` bytes at in, in + item, ... into out (32 bytes each). All inputs are read before any
 * output is written, so out may overlap the inputs as long as it does not run ahead of them (in-place levels).
 */
#define DEFINE_HASH_GROUP(NAME, W, T, ATTR, PERM, SETLANES, STORE)                                               \
  __attribute__((target(ATTR))) static void NAME(const uint8_t *in, size_t item, uint8_t *out) {                 \
    T st[25];                                                                                                    \
    uint64_t lane[W];                                                                                            \
    for (unsigned i = 0; i < 25; i++) st[i] = SETLANES(0);                                                        \
    size_t off = 0;                                                                                              \
    for (; item - off >= RATE; off += RATE) {                                                                    \
      for (unsigned i = 0; i < RATE / 8; i++) {                                                                  \
        for (unsigned j = 0; j < W; j++) lane[j] = load64le(in + j * item + off + 8 * i);                        \
        st[i] = XORV(st[i], LOADV(lane));                                                                        \
      }                                                                                                          \
      PERM(st);                                                                                                  \
    }                                                                                                            \
    uint8_t last[W][RATE];                                                                                       \
    size_t rem = item - off;                                                                                     \
    for (unsigned j = 0; j < W; j++) {                                                                           \
      memset(last[j], 0, RATE);                                                                                  \
      memcpy(last[j], in + j * item + off, rem);                                                                 \
      last[j][rem] ^= 0x01;                                                                                      \
      last[j][RATE - 1] ^= 0x80;                                                                                 \
    }                                                                                                            \
    for (unsigned i = 0; i < RATE / 8; i++) {                                                                    \
      for (unsigned j = 0; j < W; j++) lane[j] = load64le(last[j] + 8 * i);                                      \
      st[i] = XORV(st[i], LOADV(lane));                                                                          \
    }                                                                                                            \
    PERM(st);                                                                                                    \
    uint64_t words[4][W];                                                                                        \
    for (unsigned i = 0; i < 4; i++) STORE(words[i], st[i]);                                                     \
    for (unsigned j = 0; j < W; j++)                                                                             \
      for (unsigned i = 0; i < 4; i++) store64le(out + 32 * j + 8 * i, words[i][j]);                             \
  }

#define XORV _mm256_xor_si256
#define LOADV(p) _mm256_loadu_si256((const __m256i *)(p))
#define SET4(v) _mm256_set1_epi64x(v)
#define STORE4(p, v) _mm256_storeu_si256((__m256i *)(p), v)
DEFINE_HASH_GROUP(hash_group_x4, 4, __m256i, "avx2", keccak_f1600_x4, SET4, STORE4)
#undef XORV
#undef LOADV
#define XORV _mm512_xor_si512
#define LOADV(p) _mm512_loadu_si512((const void *)(p))
#define SET8(v) _mm512_set1_epi64(v)
#define STORE8(p, v) _mm512_storeu_si512((void *)(p), v)
DEFINE_HASH_GROUP(hash_group_x8, 8, __m512i, "avx512f", keccak_f1600_x8, SET8, STORE8)
#undef XORV
#undef LOADV
#endif

static int simd_width = 1; /* 8, 4 or 1; chosen at load, overridable for tests */

static void select_simd(int want) {
  simd_width = 1;
#ifdef ZG_X86
  __builtin_cpu_init();
  if ((want == 0 || want >= 8) && __builtin_cpu_supports("avx512f")) simd_width = 8;
  else if ((want == 0 || want >= 4) && __builtin_cpu_supports("avx2")) simd_width = 4;
#else
  (void)want;
#endif
}

/* keccak of n consecutive items of `item` bytes into out; out may trail the input (see hash_group). */
static void hash_many(const uint8_t *in, size_t item, size_t n, uint8_t *out) {
  size_t i = 0;
#ifdef ZG_X86
  if (simd_width == 8)
    for (; n - i >= 8; i += 8) hash_group_x8(in + i * item, item, out + 32 * i);
  if (simd_width >= 4)
    for (; n - i >= 4; i += 4) hash_group_x4(in + i * item, item, out + 32 * i);
#endif
  for (; i < n; i++) keccak256(in + i * item, item, out + 32 * i);
}

/* Root of the "promote the odd node" tree over n 32-byte hashes held in buf (overwritten). */
static void promote_odd_root(uint8_t *buf, size_t n, uint8_t out[32]) {
  while (n > 1) {
    size_t pairs = n / 2;
    hash_many(buf, 64, pairs, buf);
    if (n & 1) memmove(buf + 32 * pairs, buf + 32 * (n - 1), 32);
    n = pairs + (n & 1);
  }
  memcpy(out, buf, 32);
}

/* ---- Node-API glue ---- */

static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  size_t length, offset;
  void *ptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, "KECCAK_BAD_ARGUMENT", "expected a Uint8Array");
    return 0;
  }
  *data = (uint8_t *)ptr;
  *len = length;
  return 1;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "KECCAK_BAD_ARGUMENT", "expected an unsigned integer");
    return 0;
  }
  return 1;
}

/* hashBatch(input, itemSize, out): out[32i..32i+32) = keccak(input[i*itemSize .. (i+1)*itemSize)). */
static napi_value hash_batch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *in, *out;
  size_t in_len, out_len;
  uint32_t item;
  if (argc < 3 || !get_bytes(env, argv[0], &in, &in_len) || !get_u32(env, argv[1], &item) ||
      !get_bytes(env, argv[2], &out, &out_len))
    return NULL;
  if (item == 0 || in_len % item != 0 || out_len < (in_len / item) * 32) {
    napi_throw_range_error(env, "KECCAK_BAD_LENGTH", "input must be whole items and out must hold 32 bytes per item");
    return NULL;
  }
  size_t n = in_len / item;
  hash_many(in, item, n, out);
  return NULL;
}

/* keccak(input) for one input of any length. */
static napi_value hash_one(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *in, *out;
  size_t in_len, out_len;
  if (argc < 2 || !get_bytes(env, argv[0], &in, &in_len) || !get_bytes(env, argv[1], &out, &out_len)) return NULL;
  if (out_len < 32) {
    napi_throw_range_error(env, "KECCAK_BAD_LENGTH", "out must hold 32 bytes");
    return NULL;
  }
  keccak256(in, in_len, out);
  return NULL;
}

/*
 * segmentRoots(data, leafSize, leavesPerSegment, out): data is whole leaves; every run of leavesPerSegment leaves
 * (the last run may be shorter) is hashed leaf by leaf and reduced with the promote-odd tree into one root.
 */
static napi_value segment_roots(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *in, *out;
  size_t in_len, out_len;
  uint32_t leaf, per_seg;
  if (argc < 4 || !get_bytes(env, argv[0], &in, &in_len) || !get_u32(env, argv[1], &leaf) ||
      !get_u32(env, argv[2], &per_seg) || !get_bytes(env, argv[3], &out, &out_len))
    return NULL;
  if (leaf == 0 || per_seg == 0 || per_seg > 65536 || in_len % leaf != 0) {
    napi_throw_range_error(env, "KECCAK_BAD_LENGTH", "input must be whole leaves");
    return NULL;
  }
  size_t leaves = in_len / leaf;
  size_t segs = (leaves + per_seg - 1) / per_seg;
  if (out_len < segs * 32) {
    napi_throw_range_error(env, "KECCAK_BAD_LENGTH", "out must hold 32 bytes per segment");
    return NULL;
  }
  uint8_t scratch[32 * 1024];
  uint8_t *work = scratch;
  uint8_t *heap = NULL;
  if (per_seg > 1024) {
    heap = (uint8_t *)malloc((size_t)per_seg * 32);
    if (heap == NULL) {
      napi_throw_error(env, "KECCAK_NO_MEMORY", "out of memory");
      return NULL;
    }
    work = heap;
  }
  for (size_t s = 0; s < segs; s++) {
    size_t first = s * per_seg;
    size_t count = leaves - first < per_seg ? leaves - first : per_seg;
    hash_many(in + first * leaf, leaf, count, work);
    promote_odd_root(work, count, out + 32 * s);
  }
  free(heap);
  return NULL;
}

/* treeRoot(hashes, out): promote-odd root over n 32-byte hashes (input left untouched). */
static napi_value tree_root(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *in, *out;
  size_t in_len, out_len;
  if (argc < 2 || !get_bytes(env, argv[0], &in, &in_len) || !get_bytes(env, argv[1], &out, &out_len)) return NULL;
  if (in_len == 0 || in_len % 32 != 0 || out_len < 32) {
    napi_throw_range_error(env, "KECCAK_BAD_LENGTH", "input must be one or more 32-byte hashes");
    return NULL;
  }
  uint8_t *work = (uint8_t *)malloc(in_len);
  if (work == NULL) {
    napi_throw_error(env, "KECCAK_NO_MEMORY", "out of memory");
    return NULL;
  }
  memcpy(work, in, in_len);
  promote_odd_root(work, in_len / 32, out);
  free(work);
  return NULL;
}

/* setSimd(width?): 8, 4 or 1 lanes (capped by the CPU); no argument picks the widest. Returns the width in use. */
static napi_value set_simd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t want = 0;
  if (argc >= 1) napi_get_value_uint32(env, argv[0], &want);
  select_simd((int)want);
  napi_value out;
  napi_create_uint32(env, (uint32_t)simd_width, &out);
  return out;
}

NAPI_MODULE_INIT() {
  static int initialised = 0;
  if (!initialised) {
    derive_constants();
    initialised = 1;
  }
  /* Refuse to load if the unrolled permutation disagrees with the specification (known answer: keccak of ""). */
  static const uint8_t empty_digest[32] = {0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d,
                                           0xb2, 0xdc, 0xc7, 0x03, 0xc0, 0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82,
                                           0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70};
  uint8_t digest[32];
  keccak256(digest, 0, digest);
  /* The multi-buffer paths must agree with the scalar one; otherwise they stay off. */
  select_simd(0);
  {
    uint8_t items[9 * 136], simd_out[9 * 32], ref_out[9 * 32];
    for (unsigned i = 0; i < sizeof items; i++) items[i] = (uint8_t)(i * 131 + 7);
    for (unsigned i = 0; i < 9; i++) keccak256(items + i * 136, 136, ref_out + 32 * i);
    hash_many(items, 136, 9, simd_out);
    if (memcmp(simd_out, ref_out, sizeof ref_out) != 0) simd_width = 1;
  }
  if (memcmp(rho_offsets, rho_table, sizeof rho_table) != 0 || memcmp(digest, empty_digest, 32) != 0) {
    napi_throw_error(env, "KECCAK_SELF_TEST", "native keccak failed its self-test");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"hashBatch", NULL, hash_batch, NULL, NULL, NULL, napi_default, NULL},
      {"hashOne", NULL, hash_one, NULL, NULL, NULL, napi_default, NULL},
      {"segmentRoots", NULL, segment_roots, NULL, NULL, NULL, napi_default, NULL},
      {"treeRoot", NULL, tree_root, NULL, NULL, NULL, napi_default, NULL},
      {"setSimd", NULL, set_simd, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
