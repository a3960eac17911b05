// Case-insensitive matching as Lucene 10 defines it (RegExp.CASE_INSENSITIVE; ASCII_CASE_INSENSITIVE, which
// Elasticsearch's case_insensitive and EQL's regex~ pass, now behaves the same): a literal character c matches
// c, Java's Character.toUpperCase(c), Character.toLowerCase(c) (simple, one-to-one mappings), and the extra
// members of c's simple case-folding class listed in Lucene's CaseFolding.expand (Kelvin sign, long s, Greek
// symbol forms, ...). The relation is not closed: "İ" matches "i" but "i" does not match "İ", as in Lucene.

extension LuceneRegex {
    /// `c` and the code points Lucene treats as its case variants, sorted.
    static func caseVariants(_ c: UInt32) -> [UInt32] {
        var out: [UInt32] = [c]
        let upper = simpleUppercase(c)
        if upper != c { out.append(upper) }
        let lower = simpleLowercase(c)
        if lower != c { out.append(lower) }
        var low = 0
        var high = extraFolds.count / 3
        while low < high {
            let mid = (low + high) / 2
            if extraFolds[mid * 3] < c { low = mid + 1 } else { high = mid }
        }
        if low < extraFolds.count / 3, extraFolds[low * 3] == c {
            out.append(extraFolds[low * 3 + 1])
            if extraFolds[low * 3 + 2] != 0 { out.append(extraFolds[low * 3 + 2]) }
        }
        out.sort()
        var unique: [UInt32] = []
        for value in out where unique.last != value { unique.append(value) }
        return unique
    }

    /// Java's Character.toUpperCase: the stdlib gives full mappings, which agree with the simple one whenever
    /// they are a single scalar; these are the simple mappings whose full mapping is longer (SpecialCasing.txt).
    static func simpleUppercase(_ c: UInt32) -> UInt32 {
        switch c {
        case 0x1F80...0x1F87, 0x1F90...0x1F97, 0x1FA0...0x1FA7: return c + 8  // ᾀ → ᾈ (not "ἈΙ")
        case 0x1FB3, 0x1FC3, 0x1FF3: return c + 9  // ᾳ → ᾼ
        default: return single(Unicode.Scalar(c)?.properties.uppercaseMapping) ?? c
        }
    }

    /// Java's Character.toLowerCase, likewise.
    static func simpleLowercase(_ c: UInt32) -> UInt32 {
        if c == 0x0130 { return 0x0069 }  // İ → i (not "i̇")
        return single(Unicode.Scalar(c)?.properties.lowercaseMapping) ?? c
    }

    private static func single(_ mapping: String?) -> UInt32? {
        guard let mapping else { return nil }
        var scalars = mapping.unicodeScalars.makeIterator()
        guard let first = scalars.next(), scalars.next() == nil else { return nil }
        return first.value
    }

    /// Lucene's CaseFolding.expand special cases (Unicode 17 simple case folding classes that upper/lower
    /// mapping alone misses), as (code point, variant, second variant or 0) triples sorted by code point.
    static let extraFolds: [UInt32] = [
        0x004B, 0x212A, 0, 0x0053, 0x017F, 0, 0x006B, 0x212A, 0, 0x0073, 0x017F, 0,
        0x00B5, 0x03BC, 0, 0x00C5, 0x212B, 0, 0x00DF, 0x1E9E, 0, 0x00E5, 0x212B, 0,
        0x017F, 0x0073, 0, 0x01C4, 0x01C5, 0, 0x01C6, 0x01C5, 0, 0x01C7, 0x01C8, 0,
        0x01C9, 0x01C8, 0, 0x01CA, 0x01CB, 0, 0x01CC, 0x01CB, 0, 0x01F1, 0x01F2, 0,
        0x01F3, 0x01F2, 0, 0x0345, 0x03B9, 0x1FBE, 0x0390, 0x1FD3, 0, 0x0392, 0x03D0, 0,
        0x0395, 0x03F5, 0, 0x0398, 0x03D1, 0x03F4, 0x0399, 0x0345, 0x1FBE, 0x039A, 0x03F0, 0,
        0x039C, 0x00B5, 0, 0x03A0, 0x03D6, 0, 0x03A1, 0x03F1, 0, 0x03A3, 0x03C2, 0,
        0x03A6, 0x03D5, 0, 0x03A9, 0x2126, 0, 0x03B0, 0x1FE3, 0, 0x03B2, 0x03D0, 0,
        0x03B5, 0x03F5, 0, 0x03B8, 0x03D1, 0x03F4, 0x03B9, 0x0345, 0x1FBE, 0x03BA, 0x03F0, 0,
        0x03BC, 0x00B5, 0, 0x03C0, 0x03D6, 0, 0x03C1, 0x03F1, 0, 0x03C2, 0x03C3, 0,
        0x03C3, 0x03C2, 0, 0x03C6, 0x03D5, 0, 0x03C9, 0x2126, 0, 0x03D0, 0x03B2, 0,
        0x03D1, 0x03B8, 0x03F4, 0x03D5, 0x03C6, 0, 0x03D6, 0x03C0, 0, 0x03F0, 0x03BA, 0,
        0x03F1, 0x03C1, 0, 0x03F4, 0x0398, 0x03D1, 0x03F5, 0x03B5, 0, 0x0412, 0x1C80, 0,
        0x0414, 0x1C81, 0, 0x041E, 0x1C82, 0, 0x0421, 0x1C83, 0, 0x0422, 0x1C84, 0x1C85,
        0x042A, 0x1C86, 0, 0x0432, 0x1C80, 0, 0x0434, 0x1C81, 0, 0x043E, 0x1C82, 0,
        0x0441, 0x1C83, 0, 0x0442, 0x1C84, 0x1C85, 0x044A, 0x1C86, 0, 0x0462, 0x1C87, 0,
        0x0463, 0x1C87, 0, 0x1C80, 0x0432, 0, 0x1C81, 0x0434, 0, 0x1C82, 0x043E, 0,
        0x1C83, 0x0441, 0, 0x1C84, 0x0442, 0x1C85, 0x1C85, 0x0442, 0x1C84, 0x1C86, 0x044A, 0,
        0x1C87, 0x0463, 0, 0x1C88, 0xA64B, 0, 0x1E60, 0x1E9B, 0, 0x1E61, 0x1E9B, 0,
        0x1E9B, 0x1E61, 0, 0x1FBE, 0x0345, 0x03B9, 0x1FD3, 0x0390, 0, 0x1FE3, 0x03B0, 0,
        0x2126, 0x03A9, 0, 0x212A, 0x004B, 0, 0x212B, 0x00C5, 0, 0xA64A, 0x1C88, 0,
        0xA64B, 0x1C88, 0, 0xFB05, 0xFB06, 0, 0xFB06, 0xFB05, 0,
    ]
}
