/*
 * Systematic Reed-Solomon erasure coding over GF(2^8) as a Node-API addon.
 *
 * Field: polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D), generator 2. Code: the (k+m) x k Vandermonde matrix
 * V[r][c] = r^c, made systematic by multiplying with the inverse of its top k x k block; parity rows are rows
 * k..k+m-1. This is the construction of the widely used Backblaze / `reed-solomon-erasure` family, so parity is
 * byte-identical to `@digitaldefiance/reed-solomon-erasure.wasm` (our portable fallback) and either can
 * reconstruct what the other encoded.
 *
 * Region multiply-accumulate is the only hot loop; it is dispatched at run time to GFNI (one affine instruction
 * per 32 bytes), AVX2 (split-nibble table lookups with vpshufb) or portable scalar code.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ZG_X86 1
#include <immintrin.h>
#endif

#define MAX_SHARDS 256

static uint8_t gf_exp[512];
static uint8_t gf_log[256];
static uint8_t gf_mul_table[256][256];

static void gf_init(void) {
  unsigned x = 1;
  for (unsigned i = 0; i < 255; i++) {
    gf_exp[i] = (uint8_t)x;
    gf_log[x] = (uint8_t)i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (unsigned i = 255; i < 512; i++) gf_exp[i] = gf_exp[i - 255];
  for (unsigned a = 0; a < 256; a++)
    for (unsigned b = 0; b < 256; b++)
      gf_mul_table[a][b] = (a == 0 || b == 0) ? 0 : gf_exp[gf_log[a] + gf_log[b]];
}

static inline uint8_t gf_mul(uint8_t a, uint8_t b) { return gf_mul_table[a][b]; }

static uint8_t gf_pow(uint8_t a, unsigned n) {
  if (n == 0) return 1;
  if (a == 0) return 0;
  return gf_exp[(gf_log[a] * n) % 255];
}

static uint8_t gf_inv(uint8_t a) { return gf_exp[255 - gf_log[a]]; }

/* Inverts the n x n matrix a (row-major) into out; returns 0 when singular. */
static int gf_invert(const uint8_t *a, uint8_t *out, unsigned n) {
  uint8_t *w = (uint8_t *)malloc((size_t)n * 2 * n);
  if (!w) return 0;
  for (unsigned r = 0; r < n; r++) {
    memcpy(w + r * 2 * n, a + r * n, n);
    memset(w + r * 2 * n + n, 0, n);
    w[r * 2 * n + n + r] = 1;
  }
  for (unsigned c = 0; c < n; c++) {
    unsigned p = c;
    while (p < n && w[p * 2 * n + c] == 0) p++;
    if (p == n) {
      free(w);
      return 0;
    }
    if (p != c)
      for (unsigned j = 0; j < 2 * n; j++) {
        uint8_t t = w[c * 2 * n + j];
        w[c * 2 * n + j] = w[p * 2 * n + j];
        w[p * 2 * n + j] = t;
      }
    uint8_t s = gf_inv(w[c * 2 * n + c]);
    for (unsigned j = 0; j < 2 * n; j++) w[c * 2 * n + j] = gf_mul(w[c * 2 * n + j], s);
    for (unsigned r = 0; r < n; r++) {
      if (r == c || w[r * 2 * n + c] == 0) continue;
      uint8_t f = w[r * 2 * n + c];
      for (unsigned j = 0; j < 2 * n; j++) w[r * 2 * n + j] ^= gf_mul(f, w[c * 2 * n + j]);
    }
  }
  for (unsigned r = 0; r < n; r++) memcpy(out + r * n, w + r * 2 * n + n, n);
  free(w);
  return 1;
}

/* The systematic (k+m) x k encoding matrix. */
static int build_matrix(unsigned k, unsigned m, uint8_t *matrix) {
  unsigned n = k + m;
  uint8_t *v = (uint8_t *)malloc((size_t)n * k);
  uint8_t *top_inv = (uint8_t *)malloc((size_t)k * k);
  if (!v || !top_inv) {
    free(v);
    free(top_inv);
    return 0;
  }
  for (unsigned r = 0; r < n; r++)
    for (unsigned c = 0; c < k; c++) v[r * k + c] = gf_pow((uint8_t)r, c);
  int ok = gf_invert(v, top_inv, k);
  if (ok)
    for (unsigned r = 0; r < n; r++)
      for (unsigned c = 0; c < k; c++) {
        uint8_t acc = 0;
        for (unsigned j = 0; j < k; j++) acc ^= gf_mul(v[r * k + j], top_inv[j * k + c]);
        matrix[r * k + c] = acc;
      }
  free(v);
  free(top_inv);
  return ok;
}

/*
 * The kernel: out[r] = XOR_c coef[r][c] * in[c] over `len` bytes, for `rows` outputs and `cols` inputs.
 * Work proceeds in column tiles so a tile of every input stays in L1 while all outputs are produced from it.
 */
typedef void (*matmul_fn)(const uint8_t *coef, unsigned rows, unsigned cols, const uint8_t *const *in, uint8_t *const *out,
                          size_t len);

#define TILE 1024

static void matmul_scalar(const uint8_t *coef, unsigned rows, unsigned cols, const uint8_t *const *in, uint8_t *const *out,
                          size_t len) {
  for (size_t t = 0; t < len; t += TILE) {
    size_t end = t + TILE < len ? t + TILE : len;
    for (unsigned r = 0; r < rows; r++) {
      uint8_t *o = out[r];
      memset(o + t, 0, end - t);
      for (unsigned c = 0; c < cols; c++) {
        const uint8_t *tab = gf_mul_table[coef[r * cols + c]];
        const uint8_t *src = in[c];
        for (size_t x = t; x < end; x++) o[x] ^= tab[src[x]];
      }
    }
  }
}

#ifdef ZG_X86
/* 8x8 bit matrix (vgf2p8affineqb layout) for multiplication by c: output bit i = parity(row_i & x). */
static uint64_t affine_for(uint8_t c) {
  uint64_t a = 0;
  for (unsigned i = 0; i < 8; i++) {
    uint8_t row = 0;
    for (unsigned j = 0; j < 8; j++)
      if (gf_mul(c, (uint8_t)(1u << j)) & (1u << i)) row |= (uint8_t)(1u << j);
    a |= (uint64_t)row << (8 * (7 - i));
  }
  return a;
}

__attribute__((target("avx2,gfni"))) static void matmul_gfni(const uint8_t *coef, unsigned rows, unsigned cols,
                                                              const uint8_t *const *in, uint8_t *const *out, size_t len) {
  size_t vec_end = len & ~(size_t)63;
  uint64_t *affine = (uint64_t *)malloc((size_t)rows * cols * sizeof(uint64_t));
  if (affine == NULL) {
    matmul_scalar(coef, rows, cols, in, out, len);
    return;
  }
  for (unsigned i = 0; i < rows * cols; i++) affine[i] = affine_for(coef[i]);
  /* Four output rows at a time: each input vector is loaded once and feeds four accumulators. */
  __m256i *mats = (__m256i *)aligned_alloc(32, (size_t)4 * cols * sizeof(__m256i));
  if (mats == NULL) {
    free(affine);
    matmul_scalar(coef, rows, cols, in, out, len);
    return;
  }
  for (size_t t = 0; t < vec_end; t += TILE) {
    size_t end = t + TILE < vec_end ? t + TILE : vec_end;
    for (unsigned r0 = 0; r0 < rows; r0 += 4) {
      unsigned nr = rows - r0 < 4 ? rows - r0 : 4;
      for (unsigned rr = 0; rr < 4; rr++)
        for (unsigned c = 0; c < cols; c++)
          mats[rr * cols + c] = _mm256_set1_epi64x(rr < nr ? (long long)affine[(r0 + rr) * cols + c] : 0);
      for (size_t x = t; x < end; x += 64) {
        __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (unsigned c = 0; c < cols; c++) {
          __m256i v0 = _mm256_loadu_si256((const __m256i *)(in[c] + x));
          __m256i v1 = _mm256_loadu_si256((const __m256i *)(in[c] + x + 32));
          __m256i m0 = mats[c], m1 = mats[cols + c], m2 = mats[2 * cols + c], m3 = mats[3 * cols + c];
          a00 = _mm256_xor_si256(a00, _mm256_gf2p8affine_epi64_epi8(v0, m0, 0));
          a01 = _mm256_xor_si256(a01, _mm256_gf2p8affine_epi64_epi8(v1, m0, 0));
          a10 = _mm256_xor_si256(a10, _mm256_gf2p8affine_epi64_epi8(v0, m1, 0));
          a11 = _mm256_xor_si256(a11, _mm256_gf2p8affine_epi64_epi8(v1, m1, 0));
          a20 = _mm256_xor_si256(a20, _mm256_gf2p8affine_epi64_epi8(v0, m2, 0));
          a21 = _mm256_xor_si256(a21, _mm256_gf2p8affine_epi64_epi8(v1, m2, 0));
          a30 = _mm256_xor_si256(a30, _mm256_gf2p8affine_epi64_epi8(v0, m3, 0));
          a31 = _mm256_xor_si256(a31, _mm256_gf2p8affine_epi64_epi8(v1, m3, 0));
        }
        _mm256_storeu_si256((__m256i *)(out[r0] + x), a00);
        _mm256_storeu_si256((__m256i *)(out[r0] + x + 32), a01);
        if (nr > 1) {
          _mm256_storeu_si256((__m256i *)(out[r0 + 1] + x), a10);
          _mm256_storeu_si256((__m256i *)(out[r0 + 1] + x + 32), a11);
        }
        if (nr > 2) {
          _mm256_storeu_si256((__m256i *)(out[r0 + 2] + x), a20);
          _mm256_storeu_si256((__m256i *)(out[r0 + 2] + x + 32), a21);
        }
        if (nr > 3) {
          _mm256_storeu_si256((__m256i *)(out[r0 + 3] + x), a30);
          _mm256_storeu_si256((__m256i *)(out[r0 + 3] + x + 32), a31);
        }
      }
    }
  }
  free(mats);
  free(affine);
  if (vec_end < len) {
    const uint8_t *tail_in[MAX_SHARDS];
    uint8_t *tail_out[MAX_SHARDS];
    for (unsigned c = 0; c < cols; c++) tail_in[c] = in[c] + vec_end;
    for (unsigned r = 0; r < rows; r++) tail_out[r] = out[r] + vec_end;
    matmul_scalar(coef, rows, cols, tail_in, tail_out, len - vec_end);
  }
}

__attribute__((target("avx2"))) static void matmul_avx2(const uint8_t *coef, unsigned rows, unsigned cols,
                                                         const uint8_t *const *in, uint8_t *const *out, size_t len) {
  const __m256i mask = _mm256_set1_epi8(0x0f);
  size_t vec_end = len & ~(size_t)31;
  /* Split-nibble product tables per coefficient: 16 low-nibble products then 16 high-nibble products. */
  uint8_t *nib = (uint8_t *)malloc((size_t)rows * cols * 32);
  if (nib == NULL) {
    matmul_scalar(coef, rows, cols, in, out, len);
    return;
  }
  for (unsigned i = 0; i < rows * cols; i++) {
    const uint8_t *tab = gf_mul_table[coef[i]];
    for (unsigned j = 0; j < 16; j++) {
      nib[i * 32 + j] = tab[j];
      nib[i * 32 + 16 + j] = tab[j << 4];
    }
  }
  __m256i lo_tab[MAX_SHARDS], hi_tab[MAX_SHARDS];
  for (size_t t = 0; t < vec_end; t += TILE) {
    size_t end = t + TILE < vec_end ? t + TILE : vec_end;
    for (unsigned r = 0; r < rows; r++) {
      for (unsigned c = 0; c < cols; c++) {
        const uint8_t *p = nib + (size_t)(r * cols + c) * 32;
        lo_tab[c] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
        hi_tab[c] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(p + 16)));
      }
      uint8_t *o = out[r];
      for (size_t x = t; x < end; x += 32) {
        __m256i acc = _mm256_setzero_si256();
        for (unsigned c = 0; c < cols; c++) {
          __m256i v = _mm256_loadu_si256((const __m256i *)(in[c] + x));
          __m256i l = _mm256_shuffle_epi8(lo_tab[c], _mm256_and_si256(v, mask));
          __m256i h = _mm256_shuffle_epi8(hi_tab[c], _mm256_and_si256(_mm256_srli_epi64(v, 4), mask));
          acc = _mm256_xor_si256(acc, _mm256_xor_si256(l, h));
        }
        _mm256_storeu_si256((__m256i *)(o + x), acc);
      }
    }
  }
  free(nib);
  if (vec_end < len) {
    const uint8_t *tail_in[MAX_SHARDS];
    uint8_t *tail_out[MAX_SHARDS];
    for (unsigned c = 0; c < cols; c++) tail_in[c] = in[c] + vec_end;
    for (unsigned r = 0; r < rows; r++) tail_out[r] = out[r] + vec_end;
    matmul_scalar(coef, rows, cols, tail_in, tail_out, len - vec_end);
  }
}
#endif

static matmul_fn matmul = matmul_scalar;
static const char *backend_name = "scalar";

static void select_backend(const char *want) {
#ifdef ZG_X86
  __builtin_cpu_init();
  int has_avx2 = __builtin_cpu_supports("avx2");
  int has_gfni = has_avx2 && __builtin_cpu_supports("gfni");
  if ((want == NULL || strcmp(want, "gfni") == 0) && has_gfni) {
    matmul = matmul_gfni;
    backend_name = "gfni";
    return;
  }
  if ((want == NULL || strcmp(want, "gfni") == 0 || strcmp(want, "avx2") == 0) && has_avx2) {
    matmul = matmul_avx2;
    backend_name = "avx2";
    return;
  }
#endif
  (void)want;
  matmul = matmul_scalar;
  backend_name = "scalar";
}

/* ---- Node-API glue ---- */

static int arg_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  size_t length, offset;
  void *ptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, "RS_BAD_ARGUMENT", "expected a Uint8Array");
    return 0;
  }
  *data = (uint8_t *)ptr;
  *len = length;
  return 1;
}

static int arg_u32(napi_env env, napi_value v, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "RS_BAD_ARGUMENT", "expected an unsigned integer");
    return 0;
  }
  return 1;
}

/* Shared argument checks: shards holds (k+m) shards of shardSize bytes each. */
static int shard_args(napi_env env, napi_value *argv, uint8_t **shards, uint32_t *k, uint32_t *m, uint32_t *size) {
  size_t len;
  if (!arg_bytes(env, argv[0], shards, &len) || !arg_u32(env, argv[1], k) || !arg_u32(env, argv[2], m) ||
      !arg_u32(env, argv[3], size))
    return 0;
  if (*k == 0 || *m == 0 || *k + *m > MAX_SHARDS || *size == 0 || len != (size_t)(*k + *m) * *size) {
    napi_throw_range_error(env, "RS_BAD_SHAPE", "need 1 <= k, 1 <= m, k + m <= 256 and (k + m) * shardSize bytes");
    return 0;
  }
  return 1;
}

/* encode(shards, k, m, shardSize): fills the m parity shards from the k data shards, in place. */
static napi_value rs_encode(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *shards;
  uint32_t k, m, size;
  if (argc < 4 || !shard_args(env, argv, &shards, &k, &m, &size)) return NULL;
  uint8_t *matrix = (uint8_t *)malloc((size_t)(k + m) * k);
  if (!matrix || !build_matrix(k, m, matrix)) {
    free(matrix);
    napi_throw_error(env, "RS_MATRIX", "cannot build the encoding matrix");
    return NULL;
  }
  const uint8_t *in[MAX_SHARDS];
  uint8_t *out[MAX_SHARDS];
  for (unsigned c = 0; c < k; c++) in[c] = shards + (size_t)c * size;
  for (unsigned r = 0; r < m; r++) out[r] = shards + (size_t)(k + r) * size;
  matmul(matrix + (size_t)k * k, m, k, in, out, size);
  free(matrix);
  return NULL;
}

/*
 * reconstruct(shards, k, m, shardSize, present): present[i] != 0 marks shard i intact. Rebuilds every missing
 * shard in place from the first k present ones (invert their rows of the matrix to recover the data, then
 * re-encode missing parity). Throws RS_TOO_FEW when fewer than k are present.
 */
static napi_value rs_reconstruct(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *shards, *present;
  size_t plen;
  uint32_t k, m, size;
  if (argc < 5 || !shard_args(env, argv, &shards, &k, &m, &size) || !arg_bytes(env, argv[4], &present, &plen)) return NULL;
  unsigned n = k + m;
  if (plen != n) {
    napi_throw_range_error(env, "RS_BAD_SHAPE", "present must have k + m entries");
    return NULL;
  }
  unsigned chosen[MAX_SHARDS], count = 0, missing_data = 0, missing_parity = 0;
  for (unsigned i = 0; i < n && count < k; i++)
    if (present[i]) chosen[count++] = i;
  if (count < k) {
    napi_throw_error(env, "RS_TOO_FEW", "fewer than k shards present");
    return NULL;
  }
  for (unsigned i = 0; i < n; i++)
    if (!present[i]) {
      if (i < k) missing_data++;
      else missing_parity++;
    }
  if (missing_data + missing_parity == 0) return NULL;
  uint8_t *matrix = (uint8_t *)malloc((size_t)n * k);
  uint8_t *sub = (uint8_t *)malloc((size_t)k * k);
  uint8_t *dec = (uint8_t *)malloc((size_t)k * k);
  uint8_t *rows = (uint8_t *)malloc((size_t)n * k);
  if (!matrix || !sub || !dec || !rows || !build_matrix(k, m, matrix)) {
    free(matrix), free(sub), free(dec), free(rows);
    napi_throw_error(env, "RS_MATRIX", "cannot build the encoding matrix");
    return NULL;
  }
  for (unsigned r = 0; r < k; r++) memcpy(sub + r * k, matrix + (size_t)chosen[r] * k, k);
  if (!gf_invert(sub, dec, k)) {
    free(matrix), free(sub), free(dec), free(rows);
    napi_throw_error(env, "RS_MATRIX", "decoding matrix is singular");
    return NULL;
  }
  const uint8_t *in[MAX_SHARDS];
  uint8_t *out[MAX_SHARDS];
  for (unsigned r = 0; r < k; r++) in[r] = shards + (size_t)chosen[r] * size;
  if (missing_data > 0) {
    unsigned o = 0;
    for (unsigned i = 0; i < k; i++)
      if (!present[i]) {
        memcpy(rows + (size_t)o * k, dec + (size_t)i * k, k);
        out[o++] = shards + (size_t)i * size;
      }
    matmul(rows, o, k, in, out, size);
  }
  if (missing_parity > 0) {
    /* All data shards are now whole: re-encode the missing parity from them. */
    const uint8_t *data_in[MAX_SHARDS];
    for (unsigned c = 0; c < k; c++) data_in[c] = shards + (size_t)c * size;
    unsigned o = 0;
    for (unsigned i = k; i < n; i++)
      if (!present[i]) {
        memcpy(rows + (size_t)o * k, matrix + (size_t)i * k, k);
        out[o++] = shards + (size_t)i * size;
      }
    matmul(rows, o, k, data_in, out, size);
  }
  free(matrix), free(sub), free(dec), free(rows);
  return NULL;
}

/* setBackend(name?): "gfni" | "avx2" | "scalar" | undefined (best available); returns the backend in use. */
static napi_value rs_set_backend(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char want[16] = {0};
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t == napi_string) {
    size_t got;
    napi_get_value_string_utf8(env, argv[0], want, sizeof want, &got);
    select_backend(want);
  } else {
    select_backend(NULL);
  }
  napi_value out;
  napi_create_string_utf8(env, backend_name, NAPI_AUTO_LENGTH, &out);
  return out;
}

NAPI_MODULE_INIT() {
  static int initialised = 0;
  if (!initialised) {
    gf_init();
    select_backend(NULL);
    initialised = 1;
  }
  napi_property_descriptor props[] = {
      {"encode", NULL, rs_encode, NULL, NULL, NULL, napi_default, NULL},
      {"reconstruct", NULL, rs_reconstruct, NULL, NULL, NULL, napi_default, NULL},
      {"setBackend", NULL, rs_set_backend, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
