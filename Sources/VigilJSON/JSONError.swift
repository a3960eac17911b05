/// A JSON syntax error at a byte offset of the input.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case unexpectedEnd
        case unexpectedCharacter
        case invalidUTF8
        case invalidEscape
        case invalidNumber
        case tooDeep
        case trailingData
    }

    public var code: Code
    public var offset: Int
    public var message: String
    /// 1-based line and column of `offset`, filled in when the input is known.
    public var line: Int
    public var column: Int

    public init(_ code: Code, offset: Int, message: String, line: Int = 1, column: Int = 1) {
        self.code = code
        self.offset = offset
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String { "\(message) at byte offset \(offset) [line: \(line), column: \(column)]" }
}
