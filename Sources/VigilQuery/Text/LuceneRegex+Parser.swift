// The parser for Lucene's RegExp grammar (Lucene 10.x RegExp.parseUnionExp and friends):
//
//   union  := inter ('|' inter)*
//   inter  := concat ('&' concat)*                 & only with INTERSECTION
//   concat := repeat repeat*                       stops before ')' '|' and (with INTERSECTION) '&'
//   repeat := compl ('?' | '*' | '+' | '{n}' | '{n,}' | '{n,m}')*
//   compl  := '~' compl | charclass                ~ only with COMPLEMENT
//   charclass := '[' '^'? items ']' | simple
//   simple := '.' | '#' | '@' | '"' chars '"' | '(' ')' | '(' union ')' | '<' id '>' | '<' n '-' m '>'
//           | '\' predefined | '\'? char
//
// Lucene parses by recursive descent; this parser keeps an explicit stack of open groups instead, so no pattern
// can overflow the call stack, and caps group nesting at `maxGroupDepth`. Error messages and their positions
// (UTF-16 offsets, as Java counts) are Lucene's.

extension LuceneRegex {
    /// A parsed expression. Children always precede their parent in `Parser.nodes`, so the compiler can build
    /// bottom-up in one forward pass without recursion.
    enum Node: Sendable {
        /// A character or a quoted string (folded when case-insensitive); empty for `()` and `""`.
        case literal([UInt32])
        /// A set of code points as sorted, disjoint, non-adjacent [lo, hi, lo, hi, ...] pairs.
        case ranges([UInt32])
        /// `#`: no string at all.
        case emptyLanguage
        /// `@`: every string.
        case anyString
        /// `<min-max>`; digits > 0 fixes the length (zero-padded), otherwise leading zeros are free.
        case interval(min: Int, max: Int, digits: Int)
        /// `<name>`: Elasticsearch passes no automaton provider, so compiling it fails.
        case named(String)
        case concat([Int32])
        case union([Int32])
        case intersection([Int32])
        /// `{min,max}`; max nil means unbounded (`*` is 0...nil, `+` 1...nil, `?` 0...1).
        case repeatRange(Int32, min: Int, max: Int?)
        case complement(Int32)
    }

    struct Parser {
        /// Open groups beyond this are an error; Lucene has no limit and overflows the Java stack instead.
        static let maxGroupDepth = 500

        private let scalars: [UInt32]
        private let offsets: [Int]  // UTF-16 offset of each scalar, plus one for the end
        private let flags: Flags
        private let caseInsensitive: Bool
        private var pos = 0
        private(set) var nodes: [Node] = []

        var scalarCount: Int { scalars.count }

        init(_ pattern: String, flags: Flags, caseInsensitive: Bool) {
            var scalars: [UInt32] = []
            var offsets: [Int] = []
            var offset = 0
            for scalar in pattern.unicodeScalars {
                scalars.append(scalar.value)
                offsets.append(offset)
                offset += scalar.value > 0xFFFF ? 2 : 1
            }
            offsets.append(offset)
            self.scalars = scalars
            self.offsets = offsets
            self.flags = flags
            self.caseInsensitive = caseInsensitive
        }

        /// One open group: the union being built, its current intersection and its current concatenation.
        private struct Frame {
            var complements: Int  // `~` before the group's `(`, applied once it closes
            var alternatives: [Int32] = []
            var conjuncts: [Int32] = []
            var items: [Int32] = []
        }

        /// Parses the whole pattern and returns the root node.
        mutating func parse() throws(LuceneRegexError) -> Int32 {
            if scalars.isEmpty { return add(.literal([])) }
            var frames = [Frame(complements: 0)]
            while true {
                // An operand is expected here: Lucene parses one even before ')' or '|', as a literal.
                var complements = 0
                while flags.contains(.complement) && match("~") { complements += 1 }
                guard var atom = try parseAtom(&frames, complements: complements) else { continue }
                while true {
                    // ~~x is x: the language is the same, and a chain of ~ costs one determinization each.
                    if complements % 2 == 1 { atom = add(.complement(atom)) }
                    atom = try parseQuantifiers(atom)
                    frames[frames.count - 1].items.append(atom)
                    if more && !peek(")") && !peek("|") && !(flags.contains(.intersection) && peek("&")) { break }
                    let items = frames[frames.count - 1].items
                    frames[frames.count - 1].items = []
                    frames[frames.count - 1].conjuncts.append(combine(items, kind: 0))
                    if flags.contains(.intersection) && match("&") { break }
                    let conjuncts = frames[frames.count - 1].conjuncts
                    frames[frames.count - 1].conjuncts = []
                    frames[frames.count - 1].alternatives.append(combine(conjuncts, kind: 1))
                    if match("|") { break }
                    let frame = frames.removeLast()
                    let group = combine(frame.alternatives, kind: 2)
                    if frames.isEmpty {
                        if more { throw .syntax("end-of-string expected at position \(here)", at: here) }
                        return group
                    }
                    if !match(")") { throw .syntax("expected ')' at position \(here)", at: here) }
                    atom = group
                    complements = frame.complements
                }
            }
        }

        /// kind 0 concatenation, 1 intersection, 2 union; a single operand stands for itself.
        private mutating func combine(_ operands: [Int32], kind: Int) -> Int32 {
            if operands.count == 1 { return operands[0] }
            switch kind {
            case 0: return add(.concat(operands))
            case 1: return add(.intersection(operands))
            default: return add(.union(operands))
            }
        }

        /// Parses one operand; returns nil after opening a group, whose contents come next.
        private mutating func parseAtom(_ frames: inout [Frame], complements: Int) throws(LuceneRegexError) -> Int32? {
            if match("[") { return try parseCharClass() }
            if match(".") { return add(.ranges([0, LuceneRegex.maxCodePoint])) }
            if flags.contains(.empty) && match("#") { return add(.emptyLanguage) }
            if flags.contains(.anyString) && match("@") { return add(.anyString) }
            if match("\"") {
                let start = pos
                while more && !peek("\"") { pos += 1 }
                if !match("\"") { throw .syntax("expected '\"' at position \(here)", at: here) }
                return add(.literal(Array(scalars[start..<pos - 1])))
            }
            if match("(") {
                if match(")") { return add(.literal([])) }
                if frames.count > Self.maxGroupDepth {
                    throw .syntax(
                        "too many nested groups (more than \(Self.maxGroupDepth)) at position \(offsets[pos - 1])",
                        at: offsets[pos - 1])
                }
                frames.append(Frame(complements: complements))
                return nil
            }
            if (flags.contains(.automaton) || flags.contains(.interval)) && match("<") { return try parseAngle() }
            if match("\\") {
                if peekPredefined {
                    var ranges: [UInt32] = []
                    try expandPredefined(&ranges)
                    return add(.ranges(LuceneRegex.normalize(ranges)))
                }
                // The backslash is consumed; what follows is taken literally.
            }
            return add(.literal([try next()]))
        }

        private mutating func parseQuantifiers(_ operand: Int32) throws(LuceneRegexError) -> Int32 {
            var e = operand
            while true {
                if match("?") {
                    e = repeatNode(e, 0, 1)
                } else if match("*") {
                    e = repeatNode(e, 0, nil)
                } else if match("+") {
                    e = repeatNode(e, 1, nil)
                } else if match("{") {
                    var start = pos
                    while more && Self.isDigit(scalars[pos]) { pos += 1 }
                    if start == pos { throw .syntax("integer expected at position \(here)", at: here) }
                    let n = try javaInt(start, pos)
                    var m: Int? = n
                    if match(",") {
                        start = pos
                        while more && Self.isDigit(scalars[pos]) { pos += 1 }
                        m = nil
                        if start != pos { m = try javaInt(start, pos) }
                    }
                    if !match("}") { throw .syntax("expected '}' at position \(here)", at: here) }
                    if let m, n > m {
                        throw .syntax("invalid repetition range(out of order): \(n)..\(m)", at: offsets[pos - 1])
                    }
                    e = repeatNode(e, n, m)
                } else {
                    return e
                }
            }
        }

        /// Adds a repetition, folding stacked `?`, `*` and `+` into one operator: x+? and x?+ are x*, x?? is x?.
        /// The language is the same, and each stacked operator would otherwise copy the automaton (Elasticsearch
        /// collapses them in the pattern text for the same reason).
        private mutating func repeatNode(_ e: Int32, _ min: Int, _ max: Int?) -> Int32 {
            if Self.isSimple(min, max), case let .repeatRange(inner, innerMin, innerMax) = nodes[Int(e)],
                Self.isSimple(innerMin, innerMax)
            {
                if innerMin != min || innerMax != max { nodes[Int(e)] = .repeatRange(inner, min: 0, max: nil) }
                return e
            }
            return add(.repeatRange(e, min: min, max: max))
        }

        private static func isSimple(_ min: Int, _ max: Int?) -> Bool {
            (min == 0 && max == 1) || (min <= 1 && max == nil)
        }

        /// Parses after '['. As in Lucene 10: a single character folds when case-insensitive, a range does not,
        /// an escaped character never starts a range, and range errors come before a missing ']'.
        private mutating func parseCharClass() throws(LuceneRegexError) -> Int32 {
            let negate = match("^")
            var ranges: [UInt32] = []
            repeat {
                if match("\\") {
                    if peekPredefined {
                        try expandPredefined(&ranges)
                    } else {
                        let c = try next()
                        ranges += [c, c]
                    }
                } else {
                    let c = try parseCharExp()
                    if match("-") {
                        let d = try parseCharExp()
                        ranges += [c, d]
                    } else if caseInsensitive {
                        for variant in LuceneRegex.caseVariants(c) { ranges += [variant, variant] }
                    } else {
                        ranges += [c, c]
                    }
                }
            } while more && !peek("]")
            for k in stride(from: 0, to: ranges.count, by: 2) where ranges[k] > ranges[k + 1] {
                throw .syntax("invalid range: from (\(ranges[k])) cannot be > to (\(ranges[k + 1]))", at: nil)
            }
            var set = LuceneRegex.normalize(ranges)
            if negate { set = LuceneRegex.complement(set) }
            if !match("]") { throw .syntax("expected ']' at position \(here)", at: here) }
            return add(.ranges(set))
        }

        /// Expands `\\`, `\d \D \s \S \w \W` at `pos` (the backslash already consumed); other letters are errors.
        private mutating func expandPredefined(_ ranges: inout [UInt32]) throws(LuceneRegexError) {
            let top = LuceneRegex.maxCodePoint
            switch scalars[pos] {
            case 0x5C: ranges += [0x5C, 0x5C]  // \\
            case 0x64: ranges += [0x30, 0x39]  // \d [0-9]
            case 0x44: ranges += [0, 0x2F, 0x3A, top]  // \D
            case 0x73: ranges += [0x09, 0x0A, 0x0D, 0x0D, 0x20, 0x20]  // \s [\t\n\r ]
            case 0x53: ranges += [0, 0x08, 0x0B, 0x0C, 0x0E, 0x1F, 0x21, top]  // \S
            case 0x77: ranges += [0x30, 0x39, 0x41, 0x5A, 0x5F, 0x5F, 0x61, 0x7A]  // \w [0-9A-Z_a-z]
            case 0x57: ranges += [0, 0x2F, 0x3A, 0x40, 0x5B, 0x5E, 0x60, 0x60, 0x7B, top]  // \W
            default:
                // Java appends the int code point, so Lucene's message reads "\113" for \q.
                throw .syntax("invalid character class \\\(scalars[pos])", at: here)
            }
            pos += 1
        }

        /// Parses after '<': a decimal interval `n-m` or a named automaton.
        private mutating func parseAngle() throws(LuceneRegexError) -> Int32 {
            let start = pos
            while more && !peek(">") { pos += 1 }
            if !match(">") { throw .syntax("expected '>' at position \(here)", at: here) }
            let body = Array(scalars[start..<pos - 1])
            let at = offsets[pos - 1]
            guard let dash = body.firstIndex(of: 0x2D) else {
                if !flags.contains(.automaton) { throw .syntax("interval syntax error at position \(at)", at: at) }
                var name = ""
                for value in body { if let scalar = Unicode.Scalar(value) { name.unicodeScalars.append(scalar) } }
                return add(.named(name))
            }
            if !flags.contains(.interval) { throw .syntax("illegal identifier at position \(at)", at: at) }
            guard dash != 0, dash != body.count - 1, body.lastIndex(of: 0x2D) == dash,
                let low = Self.javaParseInt(body[..<dash]), let high = Self.javaParseInt(body[(dash + 1)...])
            else { throw .syntax("interval syntax error at position \(at)", at: at) }
            // Equal-length bounds fix the length: <01-10> accepts "07" but not "7".
            let digits = dash == body.count - dash - 1 ? dash : 0
            return add(.interval(min: Swift.min(low, high), max: Swift.max(low, high), digits: digits))
        }

        /// Integer.parseInt on ASCII digits, with Java's message on overflow.
        private func javaInt(_ start: Int, _ end: Int) throws(LuceneRegexError) -> Int {
            if let value = Self.javaParseInt(scalars[start..<end]) { return value }
            var text = ""
            for value in scalars[start..<end] { text.unicodeScalars.append(Unicode.Scalar(UInt8(value))) }
            throw .syntax("For input string: \"\(text)\"", at: offsets[start])
        }

        /// Integer.parseInt for ASCII input: optional '+', at least one digit, at most Int32.max.
        private static func javaParseInt(_ text: ArraySlice<UInt32>) -> Int? {
            var digits = text
            if digits.first == 0x2B { digits = digits.dropFirst() }
            guard !digits.isEmpty else { return nil }
            var value = 0
            for scalar in digits {
                guard isDigit(scalar) else { return nil }
                value = value * 10 + Int(scalar - 0x30)
                if value > Int(Int32.max) { return nil }
            }
            return value
        }

        private static func isDigit(_ scalar: UInt32) -> Bool { scalar >= 0x30 && scalar <= 0x39 }

        private mutating func add(_ node: Node) -> Int32 {
            nodes.append(node)
            return Int32(nodes.count - 1)
        }

        private var more: Bool { pos < scalars.count }
        private var here: Int { offsets[pos] }

        /// A backslash followed by this is a predefined class, `\\`, or an error: any ASCII letter.
        private var peekPredefined: Bool {
            guard more else { return false }
            let c = scalars[pos]
            return c == 0x5C || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
        }

        private func peek(_ c: Unicode.Scalar) -> Bool { more && scalars[pos] == c.value }

        private mutating func match(_ c: Unicode.Scalar) -> Bool {
            guard peek(c) else { return false }
            pos += 1
            return true
        }

        private mutating func next() throws(LuceneRegexError) -> UInt32 {
            guard more else { throw .syntax("unexpected end-of-string", at: here) }
            pos += 1
            return scalars[pos - 1]
        }

        private mutating func parseCharExp() throws(LuceneRegexError) -> UInt32 {
            _ = match("\\")
            return try next()
        }
    }
}

extension LuceneRegex {
    static let maxCodePoint: UInt32 = 0x10FFFF

    /// Sorts [lo, hi, ...] pairs and merges overlapping or adjacent ones.
    static func normalize(_ flat: [UInt32]) -> [UInt32] {
        var pairs: [(UInt32, UInt32)] = []
        pairs.reserveCapacity(flat.count / 2)
        for k in stride(from: 0, to: flat.count, by: 2) { pairs.append((flat[k], flat[k + 1])) }
        pairs.sort { $0.0 < $1.0 }
        var out: [UInt32] = []
        for (low, high) in pairs {
            if let last = out.last, low <= last &+ 1 {
                out[out.count - 1] = Swift.max(last, high)
            } else {
                out += [low, high]
            }
        }
        return out
    }

    /// The code points not in a normalized set.
    static func complement(_ set: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        var next: UInt32 = 0
        for k in stride(from: 0, to: set.count, by: 2) {
            if set[k] > next { out += [next, set[k] - 1] }
            next = set[k + 1] &+ 1
        }
        if next <= maxCodePoint { out += [next, maxCodePoint] }
        return out
    }
}
