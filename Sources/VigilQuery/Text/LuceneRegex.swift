// Lucene's RegExp syntax (org.apache.lucene.util.automaton.RegExp, Lucene 10.x, as Elasticsearch 9 uses it)
// compiled to a DFA, so matching a value is one left-to-right walk: O(length), no backtracking, no recursion.
//
// Self-contained: no Foundation, no dependencies. The other LuceneRegex+*.swift files are part of this type.
//
// Semantics, as in Lucene:
// - A pattern always matches the whole value. `^` and `$` are ordinary characters (`^` is special only right
//   after `[`); any reserved character is a literal where an operand is expected (`*a` matches "*a").
// - Characters are Unicode code points; `.` is any code point.
// - Invalid UTF-8 in `matches(utf8:)` is read as U+FFFD, one per maximal ill-formed subsequence, exactly as
//   `String(decoding:as: UTF8.self)` repairs it, so byte and String matching always agree.

/// A Lucene regular expression compiled to a DFA that matches whole values in linear time.
public struct LuceneRegex: Sendable {
    /// Optional operators, with Elasticsearch's bit values (so an ES `flags_value` converts with `init(rawValue:)`).
    public struct Flags: OptionSet, Sendable, Hashable {
        /// Elasticsearch/Lucene bit values.
        public let rawValue: Int
        /// Creates flags from Elasticsearch/Lucene bit values.
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// `&`: intersection.
        public static let intersection = Flags(rawValue: 0x0001)
        /// `#`: the empty language.
        public static let empty = Flags(rawValue: 0x0004)
        /// `@`: any string.
        public static let anyString = Flags(rawValue: 0x0008)
        /// `<name>`: a named automaton; there is no provider, so using one is an error, as in Elasticsearch.
        public static let automaton = Flags(rawValue: 0x0010)
        /// `<n-m>`: a decimal interval.
        public static let interval = Flags(rawValue: 0x0020)
        /// `~`: complement (Lucene 10's DEPRECATED_COMPLEMENT, Elasticsearch's COMPLEMENT).
        public static let complement = Flags(rawValue: 0x1_0000)
        /// Every operator: Elasticsearch's ALL, the regexp query's default.
        public static let all = Flags(rawValue: 0xFF | 0x1_0000)
        /// No optional operator.
        public static let none: Flags = []
    }

    /// Elasticsearch's default `max_determinized_states` (Lucene's DEFAULT_DETERMINIZE_WORK_LIMIT).
    public static let defaultMaxDeterminizedStates = 10_000

    /// The pattern this regex was compiled from.
    public let pattern: String
    let program: Program

    /// Compiles `pattern`; throws Lucene's parse errors, or too-complex when determinizing exceeds the limit.
    public init(
        _ pattern: String,
        flags: Flags = .all,
        caseInsensitive: Bool = false,
        maxDeterminizedStates: Int = LuceneRegex.defaultMaxDeterminizedStates
    ) throws(LuceneRegexError) {
        // Elasticsearch masks flags_value to Lucene's syntax bits before use.
        let syntax = Flags(rawValue: flags.rawValue & Flags.all.rawValue)
        var parser = Parser(pattern, flags: syntax, caseInsensitive: caseInsensitive)
        let root = try parser.parse()
        let limits = Limits(workLimit: maxDeterminizedStates, patternLength: parser.scalarCount)
        var compiler = Compiler(nodes: parser.nodes, caseInsensitive: caseInsensitive, limits: limits)
        let nfa = try compiler.compile(root: root)
        let dfa = try Self.determinize(nfa, workLimit: maxDeterminizedStates, limits: limits)
        self.pattern = pattern
        self.program = Program(dfa: dfa)
    }

    /// Parses Elasticsearch's `flags` string ("INTERSECTION|COMPLEMENT|EMPTY", case-insensitive) as RegexpFlag does.
    public static func parseFlags(_ string: String) throws(LuceneRegexError) -> Flags {
        // ES returns Lucene's RegExp.ALL (0xff) for an empty string, which lacks COMPLEMENT, unlike the default.
        if string.isEmpty { return Flags(rawValue: 0xFF) }
        var result: Flags = []
        for part in string.split(separator: "|", omittingEmptySubsequences: true) {
            // ES upper-cases with Locale.ROOT; the stdlib's full mapping agrees on every name that can match.
            switch part.uppercased() {
            case "INTERSECTION": result.insert(.intersection)
            case "COMPLEMENT": result.insert(.complement)
            case "EMPTY": result.insert(.empty)
            case "ANYSTRING": result.insert(.anyString)
            case "INTERVAL": result.insert(.interval)
            case "NONE": continue
            // ES stops at ALL, so flags after it are not even checked.
            case "ALL": return .all
            default: throw LuceneRegexError(kind: .syntax, message: "Unknown regexp flag [\(part)]", position: nil)
            }
        }
        return result
    }

    /// Whether the whole of `string` matches.
    public func matches(_ string: String) -> Bool {
        if let result = string.utf8.withContiguousStorageIfAvailable({ program.run($0) }) { return result }
        return Array(string.utf8).withUnsafeBufferPointer { program.run($0) }
    }

    /// Whether the whole of the UTF-8 bytes match; invalid sequences read as U+FFFD.
    public func matches(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        program.run(bytes)
    }

    /// Whether the whole of the UTF-8 bytes match; invalid sequences read as U+FFFD.
    public func matches(utf8 bytes: some Collection<UInt8>) -> Bool {
        if let result = bytes.withContiguousStorageIfAvailable({ program.run($0) }) { return result }
        return Array(bytes).withUnsafeBufferPointer { program.run($0) }
    }

    /// True when no value can match (e.g. `#`), so a caller can skip the scan.
    public var matchesNothing: Bool { program.start == Program.dead }

    /// True when every value matches (e.g. `.*` or `@`), so a caller can skip the scan.
    public var matchesEverything: Bool { program.start == Program.acceptAll }

    /// Number of states of the compiled DFA, including the shared dead and accept-all states.
    public var stateCount: Int { program.stateCount }
}

/// A pattern that Elasticsearch would reject: a parse error or a too-complex automaton.
public struct LuceneRegexError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// Lucene's IllegalArgumentException (Elasticsearch: illegal_argument_exception, HTTP 400).
        case syntax
        /// Lucene's TooComplexToDeterminizeException (too_complex_to_determinize_exception).
        case tooComplex
    }

    /// What went wrong.
    public var kind: Kind
    /// Lucene's message, word for word where Lucene has one.
    public var message: String
    /// Offset in the pattern in UTF-16 code units, as in Lucene's "at position N" messages, when known.
    public var position: Int?

    /// Creates an error.
    public init(kind: Kind, message: String, position: Int?) {
        self.kind = kind
        self.message = message
        self.position = position
    }

    /// Elasticsearch's error `type` for this error.
    public var elasticsearchType: String {
        kind == .syntax ? "illegal_argument_exception" : "too_complex_to_determinize_exception"
    }

    /// The message.
    public var description: String { message }

    static func syntax(_ message: String, at position: Int?) -> LuceneRegexError {
        LuceneRegexError(kind: .syntax, message: message, position: position)
    }

    static func tooComplex(states: Int, transitions: Int, limit: Int) -> LuceneRegexError {
        // Lucene 10's wording; Lucene 8 (ES 7) said "would result in more than N states."
        LuceneRegexError(
            kind: .tooComplex,
            message: "Determinizing automaton with \(states) states and \(transitions) transitions"
                + " would require more than \(limit) effort.",
            position: nil)
    }
}

extension LuceneRegex {
    /// The matcher: a DFA over character classes, packed into one Int32 array so a match is a single
    /// `withUnsafeBufferPointer` and then plain loads.
    struct Program: Sendable {
        /// No value reaching this state can match: the walk stops with false.
        static let dead: Int32 = 0
        /// Every continuation from this state matches: the walk stops with true.
        static let acceptAll: Int32 = 1
        /// Above this many table entries the DFA is stored as sorted rows (binary search per step).
        static let denseLimit = 1 << 22

        let start: Int32
        let stateCount: Int
        let classCount: Int
        let isDense: Bool
        // words = asciiClass[128] | classStarts[classCount] | accept[stateCount] | table
        // dense table: next[state * classCount + class]
        // sparse table: rowFirst[stateCount + 1] | (lastClass, target) pairs
        let words: [Int32]
        var startsBase: Int { 128 }
        var acceptBase: Int { 128 + classCount }
        var tableBase: Int { 128 + classCount + stateCount }
        var pairsBase: Int { tableBase + stateCount + 1 }

        func run(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            if start <= Self.acceptAll { return start == Self.acceptAll }
            return words.withUnsafeBufferPointer { w in
                isDense
                    ? scan(bytes, w, DenseStep(base: tableBase, classCount: classCount))
                    : scan(bytes, w, SparseStep(rows: tableBase, pairs: pairsBase))
            }
        }

        @inline(__always)
        private func scan<S: Step>(_ bytes: UnsafeBufferPointer<UInt8>, _ w: UnsafeBufferPointer<Int32>, _ step: S)
            -> Bool
        {
            var state = Int(start)
            var i = 0
            let n = bytes.count
            while i < n {
                let byte = bytes[i]
                let cls: Int
                if byte < 0x80 {
                    cls = Int(w[Int(byte)])
                    i &+= 1
                } else {
                    let (scalar, length) = LuceneRegex.decodeUTF8(bytes, at: i)
                    i &+= length
                    cls = classIndex(of: scalar, w)
                }
                state = step.next(state, cls, w)
                if state <= Int(Self.acceptAll) { return state == Int(Self.acceptAll) }
            }
            return w[acceptBase &+ state] != 0
        }

        /// The class of a non-ASCII scalar: the last class start not above it.
        @inline(__always)
        private func classIndex(of scalar: UInt32, _ w: UnsafeBufferPointer<Int32>) -> Int {
            var low = 0
            var high = classCount - 1
            let value = Int32(bitPattern: scalar)
            while low < high {
                let mid = (low &+ high &+ 1) >> 1
                if w[startsBase &+ mid] <= value { low = mid } else { high = mid &- 1 }
            }
            return low
        }
    }
}

extension LuceneRegex {
    /// One DFA step, specialised per table layout so the walk has no dynamic dispatch.
    protocol Step {
        func next(_ state: Int, _ cls: Int, _ w: UnsafeBufferPointer<Int32>) -> Int
    }

    struct DenseStep: Step {
        let base: Int
        let classCount: Int
        @inline(__always)
        func next(_ state: Int, _ cls: Int, _ w: UnsafeBufferPointer<Int32>) -> Int {
            Int(w[base &+ state &* classCount &+ cls])
        }
    }

    struct SparseStep: Step {
        let rows: Int
        let pairs: Int
        @inline(__always)
        func next(_ state: Int, _ cls: Int, _ w: UnsafeBufferPointer<Int32>) -> Int {
            // A row is (lastClass, target) pairs covering every class in order; find the first lastClass >= cls.
            var low = Int(w[rows &+ state])
            var high = Int(w[rows &+ state &+ 1]) &- 1
            let c = Int32(truncatingIfNeeded: cls)
            while low < high {
                let mid = (low &+ high) >> 1
                if w[pairs &+ 2 &* mid] < c { low = mid &+ 1 } else { high = mid }
            }
            return Int(w[pairs &+ 2 &* low &+ 1])
        }
    }

    /// The low six bits of the continuation byte at `k`, or nil when there is none in `low...high`.
    @inline(__always)
    static func continuation(_ p: UnsafeBufferPointer<UInt8>, _ k: Int, _ low: UInt8, _ high: UInt8) -> UInt32? {
        guard k < p.count else { return nil }
        let byte = p[k]
        guard byte >= low, byte <= high else { return nil }
        return UInt32(byte & 0x3F)
    }

    /// Decodes the non-ASCII sequence at `i`; an ill-formed one yields U+FFFD for its maximal subpart
    /// (Unicode's recommended practice, which is also how Swift repairs String).
    @inline(__always)
    static func decodeUTF8(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
        let replacement: UInt32 = 0xFFFD
        let b0 = UInt32(p[i])
        switch b0 {
        case 0xC2...0xDF:
            guard let c1 = continuation(p, i &+ 1, 0x80, 0xBF) else { return (replacement, 1) }
            return ((b0 & 0x1F) << 6 | c1, 2)
        case 0xE0...0xEF:
            // E0 must not encode below U+0800 and ED must not encode surrogates.
            let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
            let high: UInt8 = b0 == 0xED ? 0x9F : 0xBF
            guard let c1 = continuation(p, i &+ 1, low, high) else { return (replacement, 1) }
            guard let c2 = continuation(p, i &+ 2, 0x80, 0xBF) else { return (replacement, 2) }
            return ((b0 & 0x0F) << 12 | c1 << 6 | c2, 3)
        case 0xF0...0xF4:
            // F0 must not encode below U+10000 and F4 must not go past U+10FFFF.
            let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
            let high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
            guard let c1 = continuation(p, i &+ 1, low, high) else { return (replacement, 1) }
            guard let c2 = continuation(p, i &+ 2, 0x80, 0xBF) else { return (replacement, 2) }
            guard let c3 = continuation(p, i &+ 3, 0x80, 0xBF) else { return (replacement, 3) }
            return ((b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3, 4)
        default:
            // Stray continuation bytes, C0, C1 and F5...FF start no sequence.
            return (replacement, 1)
        }
    }
}
