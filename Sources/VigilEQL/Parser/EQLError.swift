/// Where in the query text something is: 1-based line and column, as Elasticsearch reports them.
public struct SourceSpan: Sendable, Equatable, Hashable {
    public var line: Int
    public var column: Int
    /// Byte offset into the query's UTF-8.
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    public static let none = SourceSpan(line: 1, column: 1, offset: 0)
}

/// A failure to parse, verify or run an EQL query.
public struct EQLError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable {
        /// The text is not EQL (`parsing_exception`).
        case parsing
        /// It parses but cannot run: unknown fields, type mismatches, bad functions (`verification_exception`).
        case verification
        /// A request parameter is wrong (`illegal_argument_exception`).
        case illegalArgument
        /// The search was cancelled while it ran (`task_cancelled_exception`).
        case cancelled
        case `internal`
    }

    public var code: Code
    public var message: String
    public var span: SourceSpan?

    public init(_ code: Code, _ message: String, at span: SourceSpan? = nil) {
        self.code = code
        self.message = message
        self.span = span
    }

    /// Elasticsearch's wording: `line 1:15: message`.
    public var description: String {
        guard let span else { return message }
        return "line \(span.line):\(span.column): \(message)"
    }

    /// Elasticsearch's error type name for this failure.
    public var typeName: String {
        switch code {
        case .parsing: "parsing_exception"
        case .verification: "verification_exception"
        case .illegalArgument: "illegal_argument_exception"
        case .cancelled: "task_cancelled_exception"
        case .internal: "eql_illegal_argument_exception"
        }
    }
}
