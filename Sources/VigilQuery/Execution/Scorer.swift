import Foundation
public import VigilStore

/// Relevance scores of matching documents, as Elasticsearch computes them with BM25 (`k1`
/// 1.2, `b` 0.75, scaled by `k1 + 1`). Statistics (documents with the field, average length,
/// document frequency) are per index, over all its segments, as they are per shard in
/// Elasticsearch; field lengths go through Lucene's one-byte norm encoding.
public final class Scorer {
    let segments: [Segment]
    private var stats: [String: FieldStats] = [:]

    static let k1 = 1.2
    static let b = 0.75

    public init(segments: [Segment]) { self.segments = segments }

    /// Term statistics for one `bm25` node, and each segment's per-entry term counts.
    final class FieldStats {
        var docCount = 0
        var totalLength = 0
        var docFrequency: [Int]
        /// Per segment, per dictionary entry: (length, frequency of each term, or of the phrase).
        var entries: [[(length: Int32, freqs: [Int32])]] = []

        init(terms: Int) { docFrequency = [Int](repeating: 0, count: terms) }
    }

    /// Scores of `docs` in segment `index`, indexed by document (others 0).
    public func scores(_ node: ScoreNode, segment index: Int, docs: Bitmap) -> [Double] {
        var out = [Double](repeating: 0, count: segments[index].docCount)
        add(node, index, docs, 1, &out)
        return out
    }

    private func add(_ node: ScoreNode, _ si: Int, _ docs: Bitmap, _ factor: Double, _ out: inout [Double]) {
        switch node {
        case .constant(let c):
            if c == 0 { return }
            docs.forEach { out[$0] += c * factor }
        case .scaled(let n, let f):
            add(n, si, docs, factor * f, &out)
        case .sum(let clauses):
            for c in clauses { add(c.node, si, restrict(docs, c.when, si), factor, &out) }
        case .max(let clauses, let tie):
            let n = segments[si].docCount
            var best = [Double](repeating: 0, count: n), total = [Double](repeating: 0, count: n)
            for c in clauses {
                var part = [Double](repeating: 0, count: n)
                let d = restrict(docs, c.when, si)
                add(c.node, si, d, 1, &part)
                d.forEach { doc in
                    best[doc] = max(best[doc], part[doc])
                    total[doc] += part[doc]
                }
            }
            docs.forEach { out[$0] += factor * (best[$0] + tie * (total[$0] - best[$0])) }
        case .bm25(let field, let terms, let tokenized, let phrase, let boost):
            bm25(field, terms, tokenized, phrase, boost * factor, si, docs, &out)
        }
    }

    private func restrict(_ docs: Bitmap, _ when: Expr?, _ si: Int) -> Bitmap {
        guard let when else { return docs }
        var d = SegmentFilter(segment: segments[si]).matching(when)
        d.formIntersection(docs)
        return d
    }

    private func fieldStats(_ field: String, _ terms: [String], _ tokenized: Bool, _ phrase: Bool) -> FieldStats {
        let key = "\(field)\u{0}\(tokenized)\u{0}\(phrase)\u{0}" + terms.joined(separator: "\u{0}")
        if let s = stats[key] { return s }
        let units = phrase ? 1 : terms.count
        let s = FieldStats(terms: units)
        for segment in segments {
            guard let column = segment.columns[field], column.kind == .string, let dict = column.dictionary else {
                s.entries.append([])
                continue
            }
            var entries: [(length: Int32, freqs: [Int32])] = []
            entries.reserveCapacity(dict.count)
            for code in 0..<dict.count {
                let value = dict.string(code)
                if tokenized {
                    let tokens = TextAnalyzer.tokens(value)
                    var freqs = [Int32](repeating: 0, count: units)
                    if phrase {
                        if tokens.count >= terms.count {
                            for start in 0...(tokens.count - terms.count) where tokens[start..<(start + terms.count)].elementsEqual(terms) { freqs[0] += 1 }
                        }
                    } else {
                        for t in tokens {
                            for (k, term) in terms.enumerated() where term == t { freqs[k] += 1 }
                        }
                    }
                    entries.append((Int32(tokens.count), freqs))
                } else {
                    entries.append((1, terms.map { $0 == value ? 1 : 0 }))
                }
            }
            s.entries.append(entries)
            var freqs = [Int32](repeating: 0, count: units)
            for doc in 0..<segment.docCount {
                let slots = column.slots(doc)
                if slots.isEmpty { continue }
                s.docCount += 1
                for k in 0..<units { freqs[k] = 0 }
                for slot in slots {
                    let e = entries[Int(column.codes[slot])]
                    s.totalLength += Int(e.length)
                    for k in 0..<units { freqs[k] += e.freqs[k] }
                }
                for k in 0..<units where freqs[k] > 0 { s.docFrequency[k] += 1 }
            }
        }
        stats[key] = s
        return s
    }

    private func bm25(_ field: String, _ terms: [String], _ tokenized: Bool, _ phrase: Bool, _ boost: Double, _ si: Int, _ docs: Bitmap, _ out: inout [Double]) {
        guard !terms.isEmpty else { return }
        let s = fieldStats(field, terms, tokenized, phrase)
        guard let column = segments[si].columns[field], s.docCount > 0, si < s.entries.count else { return }
        let entries = s.entries[si]
        let n = Double(s.docCount)
        func idf(_ df: Int) -> Double { Double(Float(log(1 + (n - Double(df) + 0.5) / (Double(df) + 0.5)))) }
        let idfs: [Double] = phrase ? [terms.map { t in
            // A phrase weighs the sum of its terms' idf; their frequencies come from the plain terms.
            idf(termFrequency(field, t, tokenized))
        }.reduce(0, +)] : s.docFrequency.map(idf)
        let avgdl = tokenized ? Double(Float(Double(s.totalLength) / n)) : 1
        let units = idfs.count
        var freqs = [Int32](repeating: 0, count: units)
        docs.forEach { doc in
            var length = 0
            for k in 0..<units { freqs[k] = 0 }
            for slot in column.slots(doc) {
                let e = entries[Int(column.codes[slot])]
                length += Int(e.length)
                for k in 0..<units { freqs[k] += e.freqs[k] }
            }
            let dl = tokenized ? Double(SmallFloat.decode(SmallFloat.encode(length))) : 1
            let norm = Scorer.k1 * (1 - Scorer.b + Scorer.b * dl / avgdl)
            var score = 0.0
            for k in 0..<units where freqs[k] > 0 {
                let tf = tokenized ? Double(freqs[k]) : 1
                score += idfs[k] * (Scorer.k1 + 1) * tf / (tf + norm)
            }
            out[doc] += Double(Float(score * boost))
        }
    }

    private func termFrequency(_ field: String, _ term: String, _ tokenized: Bool) -> Int {
        fieldStats(field, [term], tokenized, false).docFrequency[0]
    }
}

/// Lucene's `SmallFloat.intToByte4`/`byte4ToInt`: field lengths kept in one byte, exact below
/// 24 and with 4 significant bits above.
enum SmallFloat {
    static func encode(_ i: Int) -> Int {
        if i < 24 { return i }
        return 24 + longToInt4(i - 24)
    }

    static func decode(_ b: Int) -> Int {
        if b < 24 { return b }
        return 24 + int4ToLong(b - 24)
    }

    static func longToInt4(_ i: Int) -> Int {
        let numBits = 64 - i.leadingZeroBitCount
        if numBits < 4 { return i }
        let shift = numBits - 4
        var encoded = i >> shift
        encoded &= 0x07
        encoded |= (shift + 1) << 3
        return encoded
    }

    static func int4ToLong(_ i: Int) -> Int {
        let bits = i & 0x07
        let shift = (i >> 3) - 1
        return shift == -1 ? bits : (bits | 0x08) << shift
    }
}
