#include "CVigilLinux.h"
#include "cpu.h"

#include <string.h>

#define MAX_NEEDLES 64

static inline int is_letter(uint8_t b) {
    uint8_t l = b | 0x20;
    return l >= 'a' && l <= 'z';
}

int32_t vigil_needle_matches(const uint8_t *text, int64_t p, int64_t to,
                             const vigil_needle *n, const uint8_t *needle_bytes) {
    if (p < 0 || p + (int64_t)n->length > to) return 0;
    const uint8_t *nb = needle_bytes + n->start;
    const uint8_t *t = text + p;
    if (!n->fold) return memcmp(t, nb, n->length) == 0;
    for (uint32_t k = 0; k < n->length; k++) {
        uint8_t b = t[k];
        if (is_letter(b)) b |= 0x20;
        if (b != nb[k]) return 0;
    }
    return 1;
}

/// Per anchor: the byte to compare with and what to OR into the text byte first (0x20 for a
/// letter of a folded needle, which makes the compare case-blind and stays exact).
typedef struct {
    uint8_t byte1, or1, byte2, or2;
    uint32_t off1, off2;
} anchors;

static void prepare(const vigil_needle *needles, int32_t count, const uint8_t *needle_bytes, anchors *a) {
    for (int32_t k = 0; k < count; k++) {
        const vigil_needle *n = &needles[k];
        uint8_t b1 = needle_bytes[n->start + n->anchor1], b2 = needle_bytes[n->start + n->anchor2];
        a[k].byte1 = b1;
        a[k].byte2 = b2;
        a[k].or1 = n->fold && is_letter(b1) ? 0x20 : 0;
        a[k].or2 = n->fold && is_letter(b2) ? 0x20 : 0;
        a[k].off1 = n->anchor1;
        a[k].off2 = n->anchor2;
    }
}

/// Whether some needle matches at p.
static inline int any_at(const uint8_t *text, int64_t p, int64_t to, const vigil_needle *needles, int32_t count, const uint8_t *needle_bytes) {
    for (int32_t k = 0; k < count; k++) {
        if (vigil_needle_matches(text, p, to, &needles[k], needle_bytes)) return 1;
    }
    return 0;
}

static int64_t find_scalar(const uint8_t *text, int64_t from, int64_t to, const vigil_needle *needles, int32_t count,
                           const uint8_t *needle_bytes, const anchors *a) {
    for (int64_t p = from; p < to; p++) {
        for (int32_t k = 0; k < count; k++) {
            if (p + (int64_t)needles[k].length > to) continue;
            if ((text[p + a[k].off1] | a[k].or1) != a[k].byte1) continue;
            if ((text[p + a[k].off2] | a[k].or2) != a[k].byte2) continue;
            if (vigil_needle_matches(text, p, to, &needles[k], needle_bytes)) return p;
        }
    }
    return -1;
}

#if defined(__x86_64__)
#include <immintrin.h>

static uint32_t max_reach(const anchors *a, int32_t count) {
    uint32_t m = 0;
    for (int32_t k = 0; k < count; k++) if (a[k].off2 > m) m = a[k].off2;
    return m;
}

__attribute__((target("avx2")))
static int64_t find_avx2(const uint8_t *text, int64_t from, int64_t to, const vigil_needle *needles, int32_t count,
                         const uint8_t *needle_bytes, const anchors *a) {
    __m256i b1[MAX_NEEDLES], o1[MAX_NEEDLES], b2[MAX_NEEDLES], o2[MAX_NEEDLES];
    for (int32_t k = 0; k < count; k++) {
        b1[k] = _mm256_set1_epi8((char)a[k].byte1);
        o1[k] = _mm256_set1_epi8((char)a[k].or1);
        b2[k] = _mm256_set1_epi8((char)a[k].byte2);
        o2[k] = _mm256_set1_epi8((char)a[k].or2);
    }
    int64_t reach = max_reach(a, count);
    int64_t p = from;
    while (p + 32 + reach <= to) {
        uint32_t mask = 0;
        for (int32_t k = 0; k < count; k++) {
            __m256i x = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(text + p + a[k].off1)), o1[k]);
            __m256i y = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(text + p + a[k].off2)), o2[k]);
            __m256i both = _mm256_and_si256(_mm256_cmpeq_epi8(x, b1[k]), _mm256_cmpeq_epi8(y, b2[k]));
            mask |= (uint32_t)_mm256_movemask_epi8(both);
        }
        while (mask) {
            int64_t q = p + __builtin_ctz(mask);
            if (any_at(text, q, to, needles, count, needle_bytes)) return q;
            mask &= mask - 1;
        }
        p += 32;
    }
    return find_scalar(text, p, to, needles, count, needle_bytes, a);
}

static int64_t find_sse2(const uint8_t *text, int64_t from, int64_t to, const vigil_needle *needles, int32_t count,
                         const uint8_t *needle_bytes, const anchors *a) {
    int64_t reach = max_reach(a, count);
    int64_t p = from;
    while (p + 16 + reach <= to) {
        uint32_t mask = 0;
        for (int32_t k = 0; k < count; k++) {
            __m128i x = _mm_or_si128(_mm_loadu_si128((const __m128i *)(text + p + a[k].off1)), _mm_set1_epi8((char)a[k].or1));
            __m128i y = _mm_or_si128(_mm_loadu_si128((const __m128i *)(text + p + a[k].off2)), _mm_set1_epi8((char)a[k].or2));
            __m128i both = _mm_and_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8((char)a[k].byte1)), _mm_cmpeq_epi8(y, _mm_set1_epi8((char)a[k].byte2)));
            mask |= (uint32_t)_mm_movemask_epi8(both);
        }
        while (mask) {
            int64_t q = p + __builtin_ctz(mask);
            if (any_at(text, q, to, needles, count, needle_bytes)) return q;
            mask &= mask - 1;
        }
        p += 16;
    }
    return find_scalar(text, p, to, needles, count, needle_bytes, a);
}

VIGIL_DEFINE_CPU_CHECK(has_avx2, "avx2")
#endif

int64_t vigil_needles_find(const uint8_t *text, int64_t from, int64_t to,
                           const vigil_needle *needles, int32_t count, const uint8_t *needle_bytes) {
    if (count <= 0 || from >= to) return -1;
    if (count > MAX_NEEDLES) {
        // More needles than the vector loop keeps in registers: plain compares.
        for (int64_t p = from; p < to; p++) if (any_at(text, p, to, needles, count, needle_bytes)) return p;
        return -1;
    }
    anchors a[MAX_NEEDLES];
    prepare(needles, count, needle_bytes, a);
#if defined(__x86_64__)
    return has_avx2() ? find_avx2(text, from, to, needles, count, needle_bytes, a)
                      : find_sse2(text, from, to, needles, count, needle_bytes, a);
#else
    return find_scalar(text, from, to, needles, count, needle_bytes, a);
#endif
}
