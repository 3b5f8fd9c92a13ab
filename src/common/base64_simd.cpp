// Base64 with SSSE3, twelve input bytes a step, or AVX2, twenty-four
// (base64_to.hpp). The method is
// Wojciech Muła's: pshufb spreads each 3 bytes over 4 lanes, two multiplies
// move the four 6-bit fields into place, and a 16-entry pshufb table gives
// each field's offset to its ASCII character (A-Z, a-z, 0-9, +, /).
// Neither is in the x86-64 baseline the project compiles for, so these
// functions are compiled for them and chosen at run time.
#include "common/base64_to.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace sluice::common::detail {

namespace {

__attribute__((target("ssse3"))) size_t blocks_ssse3(char* out, const unsigned char* s, size_t n) {
  // Bytes [b0 b1 b2] -> lanes [b1 b0 b2 b1] per 32 bits, for the multiplies below.
  const __m128i spread = _mm_set_epi8(10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1);
  // Offset of each class to its character: 0-25 'A', 26-51 'a'-26, 52-61 '0'-52, 62 '+', 63 '/'.
  const __m128i offsets = _mm_setr_epi8(65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0);
  size_t i = 0;
  char* o = out;
  for (; i + 16 <= n; i += 12, o += 16) {
    __m128i in = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    in = _mm_shuffle_epi8(in, spread);
    const __m128i t0 = _mm_and_si128(in, _mm_set1_epi32(0x0fc0fc00));
    const __m128i t1 = _mm_mulhi_epu16(t0, _mm_set1_epi32(0x04000040));
    const __m128i t2 = _mm_and_si128(in, _mm_set1_epi32(0x003f03f0));
    const __m128i t3 = _mm_mullo_epi16(t2, _mm_set1_epi32(0x01000010));
    const __m128i idx = _mm_or_si128(t1, t3);  // sixteen 6-bit values
    // Class: 0 for 0-25, 1 for 26-51, 2..11 for 52-61, 12 for 62, 13 for 63.
    __m128i cls = _mm_subs_epu8(idx, _mm_set1_epi8(51));
    cls = _mm_sub_epi8(cls, _mm_cmpgt_epi8(idx, _mm_set1_epi8(25)));
    const __m128i chars = _mm_add_epi8(idx, _mm_shuffle_epi8(offsets, cls));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), chars);
  }
  return i;
}

// The same, two blocks (24 bytes -> 32 characters) a step in the two 128-bit
// lanes of an AVX2 register; the blocks left after it go through SSSE3.
__attribute__((target("avx2"))) size_t blocks_avx2(char* out, const unsigned char* s, size_t n) {
  const __m256i spread =
      _mm256_broadcastsi128_si256(_mm_set_epi8(10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1));
  const __m256i offsets =
      _mm256_broadcastsi128_si256(_mm_setr_epi8(65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0));
  size_t i = 0;
  char* o = out;
  for (; i + 28 <= n; i += 24, o += 32) {  // the second load reads 16 bytes from i + 12
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 12));
    __m256i in = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    in = _mm256_shuffle_epi8(in, spread);
    const __m256i t0 = _mm256_and_si256(in, _mm256_set1_epi32(0x0fc0fc00));
    const __m256i t1 = _mm256_mulhi_epu16(t0, _mm256_set1_epi32(0x04000040));
    const __m256i t2 = _mm256_and_si256(in, _mm256_set1_epi32(0x003f03f0));
    const __m256i t3 = _mm256_mullo_epi16(t2, _mm256_set1_epi32(0x01000010));
    const __m256i idx = _mm256_or_si256(t1, t3);
    __m256i cls = _mm256_subs_epu8(idx, _mm256_set1_epi8(51));
    cls = _mm256_sub_epi8(cls, _mm256_cmpgt_epi8(idx, _mm256_set1_epi8(25)));
    const __m256i chars = _mm256_add_epi8(idx, _mm256_shuffle_epi8(offsets, cls));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), chars);
  }
  return i + blocks_ssse3(o, s + i, n - i);
}

enum class Simd { None, Ssse3, Avx2 };

Simd simd_level() {
  __builtin_cpu_init();  // may run before other constructors
  if (__builtin_cpu_supports("avx2")) return Simd::Avx2;
  return __builtin_cpu_supports("ssse3") ? Simd::Ssse3 : Simd::None;
}

const Simd kSimd = simd_level();

}  // namespace

size_t base64_blocks_simd(char* out, const unsigned char* s, size_t n) {
  switch (kSimd) {
    case Simd::Avx2: return blocks_avx2(out, s, n);
    case Simd::Ssse3: return blocks_ssse3(out, s, n);
    case Simd::None: break;
  }
  return 0;
}

}  // namespace sluice::common::detail

#else

namespace sluice::common::detail {
size_t base64_blocks_simd(char*, const unsigned char*, size_t) { return 0; }
}  // namespace sluice::common::detail

#endif
